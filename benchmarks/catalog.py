"""The full check catalog across many orgs: Lockstep against a naive suite, in the same run.

    python benchmarks/catalog.py                         # 1, 100, 500, 1000 orgs at 100 ms
    python benchmarks/catalog.py --orgs 1,20 --latency-ms 100
    python benchmarks/catalog.py --orgs 40,400 --latency-ms 0,100 --naive-up-to 0
    python benchmarks/catalog.py --orgs 6 --fleet 0,10000 --naive-up-to 0   # what a fleet adds

For each org count N, serves N copies of the demo's six orgs (dev, qa, staging, prod and the
two subscribers; each copy keeps its kind, tags and expectations) from ``lockstep emulator
serve`` in its own process, with ``--latency-ms`` added to every request, and runs:

- lockstep: ``pytest --org-profile <generated profile> checks/`` (the catalog as it is);
- naive: ``benchmarks/naive/``, a hand-written pytest + simple-salesforce suite asking the
  same checks' questions, one query per check, orgs one after another (up to
  ``--naive-up-to`` orgs: at 100 ms it takes about 3 s per org).

Prints one row per latency, org count and way: wall time, API calls per org (the emulator's
count of calls charged to each org's daily allowance), peak RSS and CPU time of the pytest
process, and the naive/lockstep ratios. Then, for Lockstep, the memory each org beyond the
smallest count adds, and with several latencies (one of them 0) the time the latency adds to
a run at each org count, against what it adds at the smallest count. ``--fleet S`` adds the
demo's packaging org with a fleet of S subscribers (its version counts scaled) to each
landscape, one row per fleet size; 0 leaves it out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "profiles" / "demo.yaml"
NAIVE = ROOT / "benchmarks" / "naive"
# Runs a command and reports its peak RSS and CPU time: the only child of this process.
_MEASURE = ("import json, resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(json.dumps({'code': code, 'rss_kb': u.ru_maxrss, 'cpu_s': u.ru_utime + u.ru_stime}),"
            " file=sys.stderr)")
COLUMNS = ("orgs", "latency ms", "way", "wall s", "API calls/org", "peak RSS MB", "CPU s", "CPU ms/org")


@dataclass(frozen=True)
class Measured:
    wall_s: float
    calls_per_org: float
    rss_mb: float
    cpu_s: float
    exit_code: int


def write_states(folder: Path, count: int) -> list[dict[str, Any]]:
    """N copies of the demo's orgs as emulator states; returns their profile entries."""
    demo = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    templates = {org["name"]: org for org in demo["orgs"] if org["kind"] != "packaging"}
    folder.mkdir(parents=True)
    shutil.copytree(ROOT / "profiles" / "demo" / "certs", folder / "certs")  # the states' demo JWT certificate
    entries = []
    for index in range(count):
        source = sorted(templates)[index % len(templates)]
        name = f"{source}-{index:04d}"
        text = (ROOT / "profiles" / "demo" / f"{source}.yaml").read_text(encoding="utf-8")
        text = text.replace(f"name: {source}\n", f"name: {name}\n", 1)
        if index >= len(templates):  # an org id is unique in an emulator: later copies get one of their own
            text = re.sub(r"(?m)^\s*org_id:.*\n", "", text, count=1)
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
        entries.append({**templates[source], "name": name})
    return entries


def add_fleet(folder: Path, subscribers: int) -> dict[str, Any]:
    """The demo's packaging org with ``subscribers`` generated subscribers; its profile entry."""
    demo = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    entry: dict[str, Any] = next(org for org in demo["orgs"] if org["kind"] == "packaging")
    state = yaml.safe_load((ROOT / "profiles" / "demo" / f"{entry['name']}.yaml").read_text(encoding="utf-8"))
    fleet = state["packaging"]["fleet"][0]
    versions = fleet["versions"]
    scale = subscribers / sum(versions.values())
    counts = {version: int(count * scale) for version, count in versions.items()}
    counts[next(iter(counts))] += subscribers - sum(counts.values())
    state["packaging"]["fleet"] = [{"package": fleet["package"], "seed": fleet["seed"], "versions": counts}]
    (folder / f"{entry['name']}.yaml").write_text(yaml.safe_dump(state, sort_keys=False), encoding="utf-8")
    return entry


def write_profile(path: Path, entries: list[dict[str, Any]], url: str, ca_file: str) -> None:
    """The demo profile over the copies, logging in to the emulator running in its own process."""
    demo = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    demo.pop("emulator")
    auth = {"method": "emulator", "url": url, "ca_file": ca_file}
    demo["orgs"] = [{**entry, "auth": auth} for entry in entries]
    _trust_emulator(demo, ca_file)
    text = yaml.safe_dump(demo, sort_keys=False).replace("${emulator.url}", url)
    path.write_text(text, encoding="utf-8")


def _trust_emulator(value: Any, ca_file: str) -> None:
    """Endpoint probes of the emulator trust its CA, as the demo's do when it serves the emulator itself."""
    if isinstance(value, dict):
        if str(value.get("url", "")).startswith("${emulator.url}"):
            value.setdefault("ca_file", ca_file)
        for item in value.values():
            _trust_emulator(item, ca_file)
    elif isinstance(value, list):
        for item in value:
            _trust_emulator(item, ca_file)


class EmulatorProcess:
    """``lockstep emulator serve`` in its own process (its CPU is not charged to the run)."""

    def __init__(self, states: Path, latency_ms: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lockstep.cli", "emulator", "serve", "--state", str(states), "--port", "0",
             "--latency-ms", str(latency_ms)], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"emulator did not start (exit {self.process.wait()})")
        info = json.loads(line)
        self.url, self.ca_cert = str(info["url"]), str(info["ca_cert"])
        self.admin = requests.Session()
        self.admin.verify = self.ca_cert
        self.admin.trust_env = False

    def reset(self) -> None:
        self.admin.post(f"{self.url}/__emulator__/reset", timeout=600).raise_for_status()

    def calls_per_org(self) -> float:
        rows = self.admin.get(f"{self.url}/__emulator__/orgs", timeout=600).json()
        calls: float = sum(row["api_calls"] for row in rows) / max(1, len(rows))
        return calls

    def stop(self) -> None:
        self.admin.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def measure(command: Sequence[str], cwd: Path, emulator: EmulatorProcess, env: dict[str, str] | None = None,
            quiet: bool = True) -> Measured:
    emulator.reset()
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _MEASURE, *command], cwd=cwd, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL if quiet else None, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    usage = json.loads(result.stderr.strip().splitlines()[-1])
    # ru_maxrss is in KiB on Linux
    return Measured(wall, emulator.calls_per_org(), usage["rss_kb"] / 1024, usage["cpu_s"], usage["code"])


def run_count(count: int, latency_ms: int, naive_up_to: int, folder: Path, fleet: int = 0) -> dict[str, Measured]:
    states = folder / f"states-{count}-{fleet}"
    entries = write_states(states, count)
    if fleet:
        entries.append(add_fleet(states, fleet))
    emulator = EmulatorProcess(states, latency_ms)
    try:
        profile = folder / f"bench-{count}-{fleet}.yaml"
        write_profile(profile, entries, emulator.url, emulator.ca_cert)
        pytest_cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
        found = {"lockstep": measure([*pytest_cmd, f"--org-profile={profile}", f"--gate-file={folder / 'gate.json'}",
                                      "checks/"], ROOT, emulator)}
        gate = json.loads((folder / "gate.json").read_text(encoding="utf-8"))
        if len(gate["orgs"]) != len(entries) or not gate["counts"]["executed"]:
            raise SystemExit(f"lockstep run at {count} orgs did not verify every org: {gate['reasons'][:3]}")
        if count <= naive_up_to and not fleet:
            found["naive"] = measure([*pytest_cmd, "-p", "no:lockstep", "."], NAIVE, emulator,
                                     env={"NAIVE_PROFILE": str(profile)})
        return found
    finally:
        emulator.stop()


Row = tuple[int, int, int, dict[str, Measured]]  # org count, latency, fleet size, measurements by way


def table(rows: list[Row]) -> list[str]:
    lines = [" | ".join(COLUMNS) + " | naive/lockstep wall | naive/lockstep calls"]
    for count, latency, fleet, found in rows:
        label = f"{count} + fleet of {fleet}" if fleet else str(count)
        lock = found["lockstep"]
        naive = found.get("naive")
        for way, m in found.items():
            ratios = (f"{naive.wall_s / lock.wall_s:.1f}x | {naive.calls_per_org / lock.calls_per_org:.1f}x"
                      if way == "naive" and naive is not None and lock.calls_per_org else "- | -")
            lines.append(f"{label} | {latency} | {way} | {m.wall_s:.1f} | {m.calls_per_org:.1f} | {m.rss_mb:.0f} | "
                         f"{m.cpu_s:.1f} | {1000 * m.cpu_s / count:.0f} | {ratios}")
    return lines


def summary(rows: list[Row]) -> list[str]:
    """Memory per org, and the time latency adds, for Lockstep."""
    lines = []
    rows = [row for row in rows if not row[2]]  # without a fleet
    wall = {(count, latency): found["lockstep"].wall_s for count, latency, _, found in rows}
    for latency in sorted({latency for _, latency, _, _ in rows}):
        measured = sorted((count, found["lockstep"].rss_mb) for count, lat, _, found in rows if lat == latency)
        if not measured:
            continue
        (low, low_rss), (high, high_rss) = measured[0], measured[-1]
        if high > low:
            lines.append(f"memory at {latency} ms: {1024 * (high_rss - low_rss) / (high - low):.0f} KB per org "
                         f"beyond {low} (peak RSS {low_rss:.0f} MB at {low} orgs, {high_rss:.0f} MB at {high})")
    counts = sorted({count for count, _, _, _ in rows})
    for latency in sorted({latency for _, latency, _, _ in rows} - {0}):
        added = {c: wall[c, latency] - wall[c, 0] for c in counts if (c, 0) in wall and (c, latency) in wall}
        if not added:
            continue
        base = min(added)
        for count, extra in sorted(added.items()):
            ratio = ""
            if count != base and added[base] > 0:
                ratio = f", {extra / added[base]:.1f}x what it adds at {base} orgs"
            lines.append(f"latency paid at {count} orgs: {latency} ms per request adds {extra:.1f} s{ratio}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", default="1,100,500,1000", help="org counts, comma-separated (default 1,100,500,1000)")
    parser.add_argument("--latency-ms", default="100",
                        help="latency added to every request, ms; several, comma-separated, give the time latency "
                             "adds (default 100)")
    parser.add_argument("--naive-up-to", type=int, default=200, metavar="N",
                        help="run the naive suite only up to N orgs (default 200)")
    parser.add_argument("--fleet", default="0", metavar="S,...",
                        help="also a packaging org with S subscribers, per size (default 0: none)")
    args = parser.parse_args(argv)
    try:
        counts = [int(c) for c in args.orgs.split(",") if c.strip()]
    except ValueError:
        parser.error(f"--orgs: expected org counts such as 1,40,400, got {args.orgs!r}")
    if not counts or min(counts) < 1:
        parser.error(f"--orgs: expected positive org counts, got {args.orgs!r}")
    try:
        latencies = [int(c) for c in args.latency_ms.split(",") if c.strip()]
    except ValueError:
        parser.error(f"--latency-ms: expected milliseconds such as 0,100, got {args.latency_ms!r}")
    if not latencies or min(latencies) < 0:
        parser.error(f"--latency-ms: expected milliseconds such as 0,100, got {args.latency_ms!r}")
    try:
        fleets = [int(f) for f in args.fleet.split(",") if f.strip()] or [0]
    except ValueError:
        parser.error(f"--fleet: expected subscriber counts such as 0,10000, got {args.fleet!r}")
    if min(fleets) < 0:
        parser.error(f"--fleet: expected subscriber counts of at least 0, got {args.fleet!r}")
    print(f"full catalog, emulator in its own process, {os.cpu_count()} CPUs")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="lockstep-bench-") as tmp:
        for latency in latencies:
            for count in counts:
                for fleet in fleets:
                    folder = Path(tmp) / f"{latency}ms"
                    rows.append((count, latency, fleet, run_count(count, latency, args.naive_up_to, folder, fleet)))
                    print(f"... {count} orgs (fleet {fleet}) at {latency} ms done", file=sys.stderr, flush=True)
    print("\n".join(table(rows) + summary(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
