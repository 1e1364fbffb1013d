"""One error type for every mistake in what users write: profiles, auth, waivers, release
policies, YAML files, expectations, emulator states, the pytest configuration.

A :class:`ConfigError` carries where the mistake is (``file``, ``org``, ``key``, each optional)
and the problem; ``str()`` is the one line users see:
``profiles/prod.yaml: orgs[prod-emea].auth.method: unknown value 'jwtt' (did you mean 'jwt'?)``.
A reader that knows only the key raises it; the caller that knows the file adds it with
:meth:`ConfigError.at`, so a catch site is one ``except ConfigError``.
"""

from __future__ import annotations

__all__ = ["ConfigError", "one_line"]


def one_line(text: str) -> str:
    """Control characters (a newline in a key, say) escaped, so a message stays one line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class ConfigError(ValueError):
    """A configuration mistake: ``file: orgs[org].key: problem`` (parts that are ``None`` left out)."""

    def __init__(self, problem: str, *, file: str | None = None, org: str | None = None,
                 key: str | None = None, keys: tuple[str | int, ...] = ()) -> None:
        self.problem, self.file, self.org, self.key = problem, file, org, key
        self.keys = keys  # the key path below the section validated, when known (to find its file)
        super().__init__(str(self))

    @property
    def where(self) -> str:
        """``orgs[org].key``, ``orgs[org]``, ``key`` or ``""``: the place inside the file."""
        org = f"orgs[{self.org}]" if self.org is not None else ""
        if org and self.key:
            return f"{org}.{self.key}"
        return org or self.key or ""

    def __str__(self) -> str:
        return one_line(": ".join(part for part in (self.file, self.where, self.problem) if part))

    def at(self, *, file: str | None = None, org: str | None = None, key: str | None = None) -> ConfigError:
        """The same mistake placed further out: in ``file``, in ``org``, below the key path ``key``."""
        inner = self.key
        if key:
            inner = f"{key}{'' if inner is None or inner.startswith('[') else '.'}{inner}" if inner else key
        return ConfigError(self.problem, file=self.file or file, org=self.org if self.org is not None else org,
                           key=inner, keys=self.keys)
