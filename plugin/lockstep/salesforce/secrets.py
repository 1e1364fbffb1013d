"""Secret values and the one function that masks them in any text.

A :class:`Secret` registers its value when it is created. :func:`redact` replaces, in any
text, every form a registered value takes on its way into output:

- the value itself and, for a multi-line value (a PEM key, a file's content), each line of
  8 characters or more, except PEM armour lines (``-----BEGIN PRIVATE KEY-----``);
- each of those escaped as ``repr()``/``str.encode`` write them (``\\n``, ``\\\\``,
  ``\\'``), as JSON, percent-encoded (``quote``, ``quote_plus``) and HTML-escaped, and
  any of these escaped once more (a ``repr`` of a JSON text, an HTML page of a JSON blob);
- the value in base64, alone or inside a longer base64 text (at any of the three alignments);
- any run of 16 characters or more of one line or of its escaped forms, and any run of 8 or
  more next to ``...`` (where ``repr`` limits and truncated messages cut a value short).

Forms are computed once, when a value is registered, into a gram index (every single-line
form of 16 characters or more) and one pattern (shorter forms, and a multi-line value whole),
recompiled only when a registration adds to it: masking costs about one dictionary look-up
per 8 characters of text, however many secrets are registered.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "MIN_LENGTH", "Secret", "redact"]

MASK = "***"
MIN_LENGTH = 8  # a secret shorter than this cannot be told apart from ordinary text
_MIN_MASKED = 4  # shorter registered values are not masked at all
_FRAGMENT = 16  # a run of this many characters of a secret's line is masked wherever it appears
_REMEMBERED, _REMEMBERED_LENGTH = 4096, 512  # masked answers kept, of texts up to this length
_GRAM = 8  # fragments are found through aligned grams of this size (any run >= 2 * _GRAM - 1 is seen)
_CUT = re.compile(r"\.\.\.|\u2026")
_ARMOUR = re.compile(r"-----(?:BEGIN|END)[A-Z0-9 ]*-----")

_lock = threading.RLock()
_secrets: set[str] = set()


class Secret:
    """A secret value that never shows itself in ``str``/``repr``; registered for redaction."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= _MIN_MASKED and value not in _secrets:
            forms = _forms(value)  # outside the lock: it may import a codec, and imports may log
            with _lock:
                if value not in _secrets:
                    _secrets.add(value)
                    _MASKER.add(*forms)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__


def _lines(value: str) -> set[str]:
    """The value's lines that identify it: 8 characters or more, not PEM armour."""
    lines = {line.strip() for line in value.splitlines()}
    return {line for line in lines if len(line) >= MIN_LENGTH and not _ARMOUR.fullmatch(line)}


def _escaped(text: str) -> set[str]:
    """``text`` as it appears inside a Python or JSON literal, a URL or an HTML page."""
    return {
        text,
        repr(text)[1:-1],
        repr("\"'" + text)[4:-1],  # both quotes present: ' is escaped as \'
        text.encode("unicode_escape").decode("ascii"),
        repr(text.encode("utf-8", "backslashreplace"))[2:-1],
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        quote(text),
        quote(text, safe=""),
        quote_plus(text),
        html.escape(text),
        html.escape(text, quote=False),
        html.escape(text, quote=False).replace('"', "&quot;"),  # an XML attribute
    }


def _twice_escaped(text: str) -> set[str]:
    return {twice for once in _escaped(text) for twice in _escaped(once)}


def _forms(value: str) -> tuple[list[str], set[str]]:
    """The forms of ``value``: single-line ones of 16 characters or more (found whole or in
    part), and the others (found whole)."""
    multi_line = len(value.splitlines()) > 1
    raw = value.encode("utf-8")
    forms = set()
    for offset in range(3):  # inside a longer text the value starts at any byte of a 3-byte group
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + raw).decode().rstrip("=")
            forms.add(encoded[4:] if offset else encoded)  # the first 4 characters mix in what precedes
    for line in _lines(value) if multi_line else {value}:
        forms |= _twice_escaped(line)
    atoms = sorted(f for f in forms if len(f) >= _FRAGMENT and "\n" not in f and "\r" not in f)
    words = {f for f in forms if len(f) >= _MIN_MASKED} - set(atoms)
    if multi_line:
        words |= _twice_escaped(value)
    return atoms, words


class _Masker:
    """Every form of every registered value, kept up to date as values are registered: a gram
    index of single-line forms of 16 characters or more (whole or in part), and one pattern for
    the rest (shorter forms, and a multi-line value in one piece)."""

    def __init__(self) -> None:
        self.atoms: list[str] = []  # single-line forms, found whole or in part through their grams
        self.joined = ""
        self.grams: dict[str, list[tuple[int, int]]] = {}
        self.words: set[str] = set()  # forms the pattern finds whole
        self.pattern: re.Pattern[str] | None = None
        self.stale = False
        self.masked: dict[str, str] = {}  # text -> masked text, for the values registered so far

    def add(self, atoms: list[str], words: set[str]) -> None:
        if not words <= self.words:
            self.words |= words
            self.stale = True
        for atom in atoms:
            index = len(self.atoms)
            self.atoms.append(atom)
            repeats: dict[str, int] = {}
            for offset in range(len(atom) - _GRAM + 1):
                gram = atom[offset:offset + _GRAM]
                # A repetitive value must not make the scan quadratic: at most 16 places of one gram
                # per value. (A cap over all values hid the newest private key's cuts once 16 keys,
                # which share their ASN.1 header's grams, were registered.)
                if repeats.get(gram, 0) < 16:
                    repeats[gram] = repeats.get(gram, 0) + 1
                    self.grams.setdefault(gram, []).append((index, offset))
        self.joined += "\0" + "\0".join(atoms)
        # The pattern is compiled when next used (``_masker``, under the lock), not here: compiled
        # at every registration, 20 private keys took 6 s of CPU; now 0.3 s, and one compile of 0.7 s.
        self.masked = {}  # last, once the index has the value: every answer kept from now on masks it

    def compile(self) -> None:
        if self.stale:
            words = sorted(self.words, key=lambda f: (-len(f), f))
            self.pattern = re.compile("|".join(map(re.escape, words))) if words else None
            self.stale = False

    def fragments(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        grams, atoms, n = self.grams, self.atoms, len(text)
        for start in range(0, n - _GRAM + 1, _GRAM):
            places = grams.get(text[start:start + _GRAM])
            if not places:
                continue
            for index, offset in places:
                atom = atoms[index]
                left, at = start, offset
                while left > 0 and at > 0 and text[left - 1] == atom[at - 1]:
                    left, at = left - 1, at - 1
                right, at = start + _GRAM, offset + _GRAM
                while right < n and at < len(atom) and text[right] == atom[at]:
                    right, at = right + 1, at + 1
                if right - left >= _FRAGMENT:
                    spans.append((left, right))
        for cut in _CUT.finditer(text):
            spans += self._around_cut(text, cut.start(), cut.end())
        return spans

    def _around_cut(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """The longest run (8 to 15 characters) of a secret's line right before and right after ``...``."""
        spans = []
        if start >= _GRAM and text[start - _GRAM:start] in self.grams:  # every 8 characters of a line are a gram
            size = next(size for size in range(_FRAGMENT - 1, _GRAM - 1, -1)
                        if start >= size and text[start - size:start] in self.joined)
            spans.append((start - size, start))
        if text[end:end + _GRAM] in self.grams:
            size = next(size for size in range(_FRAGMENT - 1, _GRAM - 1, -1)
                        if end + size <= len(text) and text[end:end + size] in self.joined)
            spans.append((end, end + size))
        return spans

    def mask(self, text: str) -> str:
        """``text`` masked; reports repeat the same strings (org and check names, reasons) for
        every test, so recent answers are remembered until a value is registered."""
        remembered = self.masked  # a value registered meanwhile replaces it: no stale answer is kept
        masked = remembered.get(text)
        if masked is None:
            masked = self._mask(text)
            if len(text) <= _REMEMBERED_LENGTH and len(remembered) < _REMEMBERED:
                remembered[text] = masked
        return masked

    def _mask(self, text: str) -> str:
        if self.pattern is not None:
            text = self.pattern.sub(MASK, text)
        spans = self.fragments(text) if self.grams else []
        if not spans:
            return text
        out, end = [], 0
        for left, right in sorted(spans):
            if right <= end:
                continue
            out.append(text[end:max(left, end)])
            if left >= end:
                out.append(MASK)
            end = right
        out.append(text[end:])
        return "".join(out)


_MASKER = _Masker()


def _masker() -> _Masker | None:
    with _lock:
        if not _secrets:
            return None
        _MASKER.compile()
        return _MASKER


def redact(text: str) -> str:
    """``text`` with every form of every registered secret replaced by ``***``."""
    if not text:
        return text
    masked = _MASKER.masked.get(text)  # without the lock: reports ask for the same strings again and again
    if masked is not None:
        return masked
    masker = _masker()
    return masker.mask(text) if masker is not None else text
