"""Org objects and the per-process connection cache.

An :class:`OrgPool` lives for one pytest process. Each org is authenticated at most once
per process and its client reused by every check; a failed login is remembered, so every
check of that org reports the same one-line ``<org>: unreachable: <reason>`` error.

The orgs of a pool share one cancel event: an interrupted :meth:`OrgPool.connect_all`
(Ctrl-C, SIGTERM) and :meth:`OrgPool.close` set it, so no org sends a further request or
waits out a retry backoff; a worker thread ends once its in-flight request returns.

Each org's transport is read-only (:mod:`lockstep.salesforce.guard`). The pool keeps the
write grant of each org whose profile allows writes; the org itself never holds it, so a
check reaches no grant through ``org``. :meth:`OrgPool.writes` opens it for the thread
running a ``writes`` check, or for the smoke tests that ``writes`` checks planned while the
org's planned requests are sent (:meth:`OrgPool.warm`).

:meth:`OrgPool.connect_all` works on at most ``concurrency`` orgs at a time (``--org-concurrency``),
one thread per org: an org never has more than one request in flight.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lockstep.config.errors import ConfigError
from lockstep.config.profile import OrgConfig, Profile
from lockstep.config.suggest import did_you_mean
from lockstep.facts.calls import Answers
from lockstep.facts.fetch import Facts
from lockstep.salesforce.auth import authenticator_for
from lockstep.salesforce.client import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, CallCounter, OrgClient, new_session
from lockstep.salesforce.errors import OrgUnreachable, SalesforceError, WriteRefused, one_line, redact
from lockstep.salesforce.guard import Grant, WriteGuard, new_guard
from lockstep.session.options import DEFAULT_CONCURRENCY

if TYPE_CHECKING:
    from lockstep.facts.calls import Answers, Request
    from lockstep.facts.fetch import Facts

__all__ = ["EmulatorAccess", "Landscape", "Org", "OrgPool", "select_orgs"]

PlanOf = Callable[[str], "tuple[Sequence[Request], Sequence[Request]]"]


@dataclass(frozen=True)
class EmulatorAccess:
    """Where a running emulator answers (handed to xdist workers: no secrets)."""

    url: str
    ca_cert: str


class Org:
    """One org of the profile, as checks see it."""

    def __init__(self, config: OrgConfig, emulator: EmulatorAccess | None = None,
                 retry_delays: Sequence[float] = (0.2, 0.8), cancel: threading.Event | None = None,
                 guard: WriteGuard | None = None) -> None:
        self.config = config
        self._guard = guard if guard is not None else WriteGuard(config.name)
        self._cancel = cancel if cancel is not None else threading.Event()
        self._emulator = emulator
        self._delays = retry_delays
        self._lock = threading.Lock()
        self._counter = CallCounter()
        self._client: OrgClient | None = None
        self._facts: Facts | None = None
        self._answers: Answers | None = None
        self._error: OrgUnreachable | None = None
        self._warmed: set[str] = set()

    def __repr__(self) -> str:
        return f"<Org {self.name} ({self.kind})>"

    name = property(lambda self: self.config.name)
    kind = property(lambda self: self.config.kind)
    tags = property(lambda self: self.config.tags)
    is_production = property(lambda self: self.config.is_production)
    allow_writes = property(lambda self: self.config.allow_writes)

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) seconds: the profile's ``timeout`` is the read timeout."""
        return (DEFAULT_TIMEOUT[0], self.config.timeout) if self.config.timeout else DEFAULT_TIMEOUT

    @property
    def deadline(self) -> float:
        """Seconds of requests the org may spend in this process (the profile's ``deadline``)."""
        return self.config.deadline or DEFAULT_DEADLINE

    @property
    def expect(self) -> Mapping[str, Any]:
        return self.config.expect

    @property
    def api_calls(self) -> int:
        """API calls charged to the org's daily allowance by this process so far."""
        return self._counter.api_calls

    @property
    def unreachable(self) -> str | None:
        """The reason the org could not be logged in to, or ``None``."""
        return self._error.message if self._error else None

    def connect(self) -> Org:
        """Log in (once per process); raises :class:`OrgUnreachable` (also on later calls)."""
        with self._lock:
            if self._client is None and self._error is None:
                self._client, self._error = self._login()
        if self._error is not None:
            raise self._error.again()
        return self

    def _login(self) -> tuple[OrgClient | None, OrgUnreachable | None]:
        auth = self.config.auth
        ca_file = auth.get("ca_file") or (self._emulator.ca_cert if self._emulator else None)
        session = new_session(self._counter, ca_file, self.timeout, self._cancel, self.name, self._guard)
        try:
            authenticator = authenticator_for(
                self.name, auth.method, auth.options, self._emulator.url if self._emulator else None
            )
            client = OrgClient(self.name, authenticator, session, self._counter, self.config.api_version, self._delays,
                               deadline=self.deadline, cancel=self._cancel)
        except SalesforceError as exc:
            session.close()
            return None, OrgUnreachable(self.name, f"{exc.code}: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - a login must never take the run down
            session.close()
            return None, OrgUnreachable(self.name, redact(one_line(f"{type(exc).__name__}: {exc}")))
        return client, None

    def warm(self, facts: Iterable[str], requests: Sequence[Request] = (), grant: Grant | None = None,
             writable: Sequence[Request] = ()) -> None:
        """Gather together the ``facts`` and planned ``requests`` not asked for yet in this process
        (what the collected checks declared and planned), in as few API calls as possible.

        ``grant`` opens the org's writes for the smoke tests of ``writable`` only.
        Never raises: a failure is remembered per fact and request and reported by each check
        that reads it; an unreachable org by each of its checks."""
        with self._lock:
            missing = [name for name in dict.fromkeys(facts) if name not in self._warmed]
            self._warmed.update(missing)
        try:
            self.answers.gather([*Facts.requests_of(missing), *requests], grant, writable)
            if missing:
                self.facts.prefetch(*missing)
        except Exception:  # noqa: BLE001 - remembered per fact; one org must not take the run down
            pass

    @property
    def troubles(self) -> int:
        """How many of this org's calls ended in org trouble (5xx, dropped connection, API limit, ...)."""
        return self._client.troubles if self._client is not None else 0

    @property
    def client(self) -> OrgClient:
        self.connect()
        assert self._client is not None
        return self._client

    @property
    def answers(self) -> Answers:
        """The org's answers to requests (facts' and planned ones), each asked at most once."""
        client = self.client
        with self._lock:
            if self._answers is None:
                self._answers = Answers(client)
            return self._answers

    @property
    def facts(self) -> Facts:
        answers = self.answers
        with self._lock:
            if self._facts is None:
                self._facts = Facts(answers.client, answers)
            return self._facts

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def idle(self) -> None:
        """Close the org's pooled connections (its session stays usable and reconnects when asked
        again): after gathering, so that open connections stay within ``--org-concurrency``."""
        self.close()


class OrgPool:
    """The orgs of this process, created on demand and connected at most once each."""

    def __init__(self, configs: Iterable[OrgConfig], emulator: EmulatorAccess | None = None,
                 retry_delays: Sequence[float] = (0.2, 0.8), concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self._configs = {c.name: c for c in configs}
        self.concurrency = concurrency
        self._emulator = emulator
        self._delays = retry_delays
        self._orgs: dict[str, Org] = {}
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self._refused = threading.local()  # writes refused to each thread, by any org (take_refusals)
        self.cancel = threading.Event()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._configs))

    def get(self, name: str) -> Org:
        with self._lock:
            if name not in self._orgs:
                config = self._configs[name]
                guard, grant = new_guard(name, config.allow_writes, self._refused)
                if grant is not None:
                    self._grants[name] = grant
                self._orgs[name] = Org(config, self._emulator, self._delays, self.cancel, guard)
            return self._orgs[name]

    def take_refusals(self) -> list[str]:
        """The writes refused to the current thread, by any org, since the last call."""
        refused: list[str] = getattr(self._refused, "lines", [])
        self._refused.lines = []
        return refused

    @contextmanager
    def writes(self, name: str) -> Iterator[None]:
        """Let the current thread write to org ``name`` inside the block (one ``writes`` check);
        :class:`WriteRefused` when its profile does not allow writes."""
        self.get(name)
        grant = self._grants.get(name)
        if grant is None:
            raise WriteRefused(name, None, "allow_writes is false for this org")
        with grant():
            yield

    def warm(self, name: str, facts: Iterable[str], requests: Sequence[Request] = (),
             writable: Sequence[Request] = ()) -> Org:
        """Log in to org ``name`` and gather its ``facts`` and planned ``requests``, opening its
        write grant (when its profile allows writes) for the smoke tests of ``writable``;
        raises :class:`OrgUnreachable`."""
        org = self.get(name)
        org.connect()
        org.warm(facts, requests, self._grants.get(name) if writable else None, writable)
        return org

    def connect_all(self, names: Iterable[str], facts_of: Callable[[str], Iterable[str]] = lambda name: (),
                    progress: Callable[[int, int], None] | None = None,
                    plan_of: PlanOf = lambda name: ((), ())) -> list[Org]:
        """Log in to the orgs concurrently (at most ``concurrency`` at a time) and gather
        ``facts_of(org name)`` and the requests of ``plan_of(org name)`` (requests, writable
        smoke tests) for each; returns them sorted by name, unreachable ones included.
        ``progress(done, total)`` is called as each org finishes.

        Interrupted (Ctrl-C, SIGTERM, any exception in the waiting thread), it sets the pool's
        cancel event, drops the orgs not started yet and re-raises without waiting: each
        running org stops after its in-flight request."""
        orgs = [self.get(n) for n in sorted(set(names))]

        def attempt(org: Org) -> None:
            if self.cancel.is_set():
                return
            try:
                self.warm(org.name, facts_of(org.name), *plan_of(org.name))
            except Exception:  # noqa: BLE001 - remembered by the org; its checks report it
                return
            finally:
                org.idle()

        pool = ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(orgs))))
        try:
            for done, _ in enumerate(pool.map(attempt, orgs), start=1):
                if progress is not None:
                    progress(done, len(orgs))
        except BaseException:
            self.cancel.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return orgs

    def api_calls(self) -> dict[str, int]:
        with self._lock:
            return {name: org.api_calls for name, org in sorted(self._orgs.items())}

    def close(self) -> None:
        """Cancel every org's remaining work and close its connections."""
        self.cancel.set()
        with self._lock:
            for org in self._orgs.values():
                org.close()
            self._orgs.clear()


class Landscape:
    """The selected orgs of a profile in this process, and the emulator serving them if any.

    The controller (or the only process) starts the emulator of an ``emulator:`` profile;
    xdist workers receive only its URL and CA file path through ``worker_input``.
    """

    def __init__(self, profile: Profile, selected: Sequence[OrgConfig], emulator: EmulatorAccess | None = None,
                 retry_delays: Sequence[float] = (0.2, 0.8), cross: Sequence[OrgConfig] | None = None,
                 concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.concurrency = concurrency
        self.profile = profile
        self.selected = tuple(sorted(selected, key=lambda c: c.name))
        # the orgs cross-org checks see: the selection, or all shards' orgs in shard 1 (lockstep.session.shards)
        self.cross = tuple(sorted(cross, key=lambda c: c.name)) if cross is not None else self.selected
        self.org_names = tuple(c.name for c in self.selected)
        self.org_set = frozenset(self.org_names)
        self.cross_org_names = tuple(c.name for c in self.cross)
        self.emulator = emulator
        self._server: Any = None
        self._delays = retry_delays
        self._pool: OrgPool | None = None

    @property
    def kinds(self) -> dict[str, str]:
        return {c.name: c.kind for c in self.selected}

    def start_emulator(self) -> None:
        """Serve the profile's emulator state on 127.0.0.1 (a free port) for this run."""
        if self.profile.emulator is None or self.emulator is not None:
            return
        from lockstep.emulator import Emulator  # the server (uvicorn) loads only for a profile served by it

        server = Emulator(str(self.profile.emulator), host="127.0.0.1", port=0)
        server.__enter__()
        self._server = server
        self.emulator = EmulatorAccess(str(server.url), str(server.ca_cert))
        served = {str(o["name"]) for o in server.orgs}
        missing = [c.name for c in self.cross if c.auth.method == "emulator" and c.name not in served]
        if missing:
            self.stop()
            raise LookupError(f"orgs[{missing[0]}]: no org of that name in the emulator state "
                              f"(it serves: {', '.join(sorted(served)) or 'none'})")

    def worker_input(self) -> dict[str, Any]:
        if self.emulator is None:
            return {}
        return {"lockstep_emulator": {"url": self.emulator.url, "ca_cert": self.emulator.ca_cert}}

    @staticmethod
    def emulator_from(worker_input: Mapping[str, Any] | None) -> EmulatorAccess | None:
        data = (worker_input or {}).get("lockstep_emulator")
        return EmulatorAccess(str(data["url"]), str(data["ca_cert"])) if data else None

    @property
    def pool(self) -> OrgPool:
        if self._pool is None:
            self._pool = OrgPool(self.cross, self.emulator, self._delays, self.concurrency)
        return self._pool

    def api_calls(self) -> dict[str, int]:
        return self._pool.api_calls() if self._pool is not None else {}

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._server is not None:
            server, self._server = self._server, None
            server.__exit__(None, None, None)


def select_orgs(profile: Profile, selector: str | None) -> tuple[OrgConfig, ...]:
    """Narrow the profile's orgs by ``name``, glob, or ``tag:x`` terms (comma-separated)."""
    if not selector:
        return profile.orgs
    names = [o.name for o in profile.orgs]
    tags = sorted({t for o in profile.orgs for t in o.tags})
    chosen: set[str] = set()
    for term in (t.strip() for t in selector.split(",")):
        if not term:
            continue
        if term.startswith("tag:"):
            tag = term[4:]
            found = {o.name for o in profile.orgs if tag in o.tags}
            if not found:
                raise ConfigError(f"no org of profile {profile.name!r} has tag {tag!r}{did_you_mean(tag, tags)}"
                                  f"; tags: {', '.join(tags) or 'none'}", key="--orgs")
        else:
            found = {n for n in names if fnmatch.fnmatchcase(n, term)}
            if not found:
                raise ConfigError(f"no org named {term!r} in profile {profile.name!r}{did_you_mean(term, names)}"
                                  f"; orgs: {', '.join(names)}", key="--orgs")
        chosen |= found
    return tuple(o for o in profile.orgs if o.name in chosen)
