"""External endpoints: which environment a URL belongs to, and probing endpoints with httpx.

An org's environment is ``expect.environment`` when declared, else ``production`` for
production, subscriber and packaging orgs and ``sandbox`` for every other org. ``expect.endpoints``
maps a system to its URL per environment; :func:`classify` tells which system and
environment a URL belongs to.

Probes (``expect.probes``) are plain HTTPS requests, sent concurrently with bounded
timeouts and TLS verification always on (``ca_file`` adds a private CA):

    expect:
      probes:
        ERP health:
          url: {production: https://erp.acme.example/health, sandbox: https://erp-test.acme.example/health}
          status: 200              # expected HTTP status (default 200)
          max_latency_ms: 2000     # default 2000
          min_cert_days: 14        # TLS certificate must stay valid this many more days (default 14)
          json: {status: ok}       # optional: dotted paths into the JSON body -> expected values
          timeout_s: 10            # default 10, at most 30
          ca_file: certs/erp-ca.pem

``${emulator.url}`` in a URL is the address of the emulator serving the profile (its CA is
then trusted automatically), so offline landscapes can probe something real.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from lockstep.config.auth import PATH_FILE_BYTES
from lockstep.config.errors import ConfigError
from lockstep.config.expectations import EMULATOR_URL, JSON_FIELDS, PROBE_URL, TEXT
from lockstep.config.schema import Each, Either, Fields, Number
from lockstep.config.yaml_load import file_problem

__all__ = ["EMULATOR_URL", "PROBE", "Probe", "ProbeResult", "classify", "environment_of", "matches", "parse_probes",
           "probe_all"]

DEFAULT_LATENCY_MS = 2000
DEFAULT_CERT_DAYS = 14
DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 30.0
MAX_CONCURRENT = 20
# One probe of expect.probes: the check catalog declares the key with it (checks/test_integrations.py).
PROBE = Fields("a probe", ("url",), url=Either(PROBE_URL, Each("a mapping of environment -> URL", PROBE_URL)),
               status=Number(100, 599, integer=True), max_latency_ms=Number(0), min_cert_days=Number(0),
               json=JSON_FIELDS, timeout_s=Number(0.1, MAX_TIMEOUT_S), ca_file=TEXT)


def environment_of(kind: str, expect: Mapping[str, Any]) -> str:
    """The environment whose endpoints an org must use."""
    declared = expect.get("environment")
    if declared:
        return str(declared)
    return "production" if kind in ("production", "subscriber", "packaging") else "sandbox"


def _normal(url: str) -> str:
    return url.strip().rstrip("/").lower()


def _origin(url: str) -> str:
    parts = urlsplit(url.strip().lower())
    return f"{parts.scheme}://{parts.netloc}"


def matches(url: str, base: str, *, origin_only: bool = False) -> bool:
    """Whether ``url`` is ``base`` or below it (or, with ``origin_only``, on the same origin)."""
    if origin_only:
        return _origin(url) == _origin(base)
    url, base = _normal(url), _normal(base)
    return url == base or url.startswith(base + "/")


def classify(url: str, endpoints: Mapping[str, Mapping[str, str]], *,
             origin_only: bool = False) -> list[tuple[str, str, str]]:
    """Every ``(system, environment, base URL)`` of ``endpoints`` that ``url`` belongs to."""
    found = []
    for system, by_environment in sorted(endpoints.items()):
        for environment, base in sorted((by_environment or {}).items()):
            if isinstance(base, str) and matches(url, base, origin_only=origin_only):
                found.append((system, environment, base))
    return found


@dataclass(frozen=True)
class Probe:
    name: str
    url: str
    status: int = 200
    max_latency_ms: float = DEFAULT_LATENCY_MS
    min_cert_days: float = DEFAULT_CERT_DAYS
    json: tuple[tuple[str, Any], ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S
    ca_file: str | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.url, self.ca_file, self.timeout_s)


@dataclass(frozen=True)
class ProbeResult:
    status: int | None = None
    latency_ms: float | None = None
    cert_days: float | None = None
    body: Any = None
    error: str | None = None

    def problems(self, probe: Probe) -> list[str]:
        """``expected ..., found ...`` for each expectation of ``probe`` this result misses."""
        if self.error:
            return [f"expected status {probe.status}, found {self.error}"]
        found = []
        if self.status != probe.status:
            found.append(f"expected status {probe.status}, found {self.status}")
        if self.latency_ms is not None and self.latency_ms > probe.max_latency_ms:
            found.append(f"expected at most {probe.max_latency_ms:g} ms, found {self.latency_ms:.0f} ms")
        if probe.url.startswith("https://") and self.cert_days is not None and self.cert_days < probe.min_cert_days:
            found.append(f"expected a TLS certificate valid {probe.min_cert_days:g}+ more days, "
                         f"found it expires in {self.cert_days:.1f} days")
        for path, want in probe.json:
            value, ok = _dig(self.body, path)
            if not ok or value != want:
                found.append(f"expected JSON {path} = {want!r}, found {repr(value) if ok else 'no such field'}")
        return found


def _dig(body: Any, path: str) -> tuple[Any, bool]:
    value = body
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None, False
    return value, True


def parse_probes(spec: Mapping[str, Any] | None, environment: str, emulator_url: str | None = None,
                 emulator_ca: str | None = None) -> list[Probe]:
    """The probes of ``expect.probes`` for one environment; a :class:`ConfigError` (a ValueError)
    names a bad key, checked by :data:`PROBE`, the shape the profile was validated with."""
    probes = []
    for name, item in sorted((spec or {}).items()):
        PROBE.check(item, ("probes", name))
        url = item["url"]
        if isinstance(url, Mapping):
            url = url.get(environment)
            if url is None:
                continue
        ca_file = item.get("ca_file")
        if EMULATOR_URL in url:
            if not emulator_url:
                raise ConfigError(f"{EMULATOR_URL} needs a profile served by the emulator", key=f"probes.{name}.url")
            url, ca_file = url.replace(EMULATOR_URL, emulator_url.rstrip("/")), ca_file or emulator_ca
        probes.append(Probe(
            name=str(name), url=url, status=int(item.get("status", 200)),
            max_latency_ms=float(item.get("max_latency_ms", DEFAULT_LATENCY_MS)),
            min_cert_days=float(item.get("min_cert_days", DEFAULT_CERT_DAYS)),
            json=tuple(sorted((str(k), v) for k, v in (item.get("json") or {}).items())),
            timeout_s=float(item.get("timeout_s", DEFAULT_TIMEOUT_S)),
            ca_file=str(ca_file) if ca_file else None,
        ))
    return probes


def _cert_days(response: httpx.Response) -> float | None:
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    cert = ssl_object.getpeercert() if ssl_object is not None else None
    if not cert or "notAfter" not in cert:
        return None
    return (ssl.cert_time_to_seconds(cert["notAfter"]) - time.time()) / 86400


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError)):
        return "no answer within the timeout"
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        detail = text.split("certificate verify failed:")[-1].strip(" )]")
        return f"a TLS certificate that does not verify ({detail})"
    return f"{type(exc).__name__}: {text[:200]}"


async def _probe(client: httpx.AsyncClient, probe: Probe, limit: asyncio.Semaphore) -> ProbeResult:
    async with limit:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(probe.timeout_s * 2):
                async with client.stream("GET", probe.url, timeout=httpx.Timeout(probe.timeout_s)) as response:
                    cert_days = _cert_days(response)
                    await response.aread()
        except (TimeoutError, httpx.HTTPError, OSError, ssl.SSLError) as exc:
            return ProbeResult(error=_describe(exc))
        latency = (time.perf_counter() - started) * 1000
        try:
            body = response.json()
        except ValueError:
            body = None
        return ProbeResult(response.status_code, latency, cert_days, body)


async def _probe_all(probes: Sequence[Probe]) -> list[ProbeResult]:
    limit = asyncio.Semaphore(MAX_CONCURRENT)
    clients: dict[str | None, httpx.AsyncClient] = {}
    broken: dict[str | None, str] = {}
    for ca_file in sorted({p.ca_file for p in probes}, key=str):
        problem = file_problem(Path(ca_file), PATH_FILE_BYTES) if ca_file else None
        if problem:  # a FIFO or a device would block the SSL context's read
            broken[ca_file] = f"CA file {ca_file} unusable ({problem})"
            continue
        try:
            verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
        except (OSError, ssl.SSLError) as exc:
            broken[ca_file] = f"CA file {ca_file} unusable ({type(exc).__name__})"
            continue
        clients[ca_file] = httpx.AsyncClient(verify=verify, follow_redirects=False,
                                             headers={"User-Agent": "lockstep-probe"})

    async def one(probe: Probe) -> ProbeResult:
        if probe.ca_file in broken:
            return ProbeResult(error=broken[probe.ca_file])
        return await _probe(clients[probe.ca_file], probe, limit)

    try:
        return list(await asyncio.gather(*(one(p) for p in probes)))
    finally:
        for client in clients.values():
            await client.aclose()


def probe_all(probes: Iterable[Probe]) -> dict[tuple[Any, ...], ProbeResult]:
    """Probe every distinct endpoint once, concurrently; results keyed by :attr:`Probe.key`."""
    unique = list({p.key: p for p in probes}.values())
    if not unique:
        return {}
    results = asyncio.run(_probe_all(unique))
    return {p.key: r for p, r in zip(unique, results, strict=True)}
