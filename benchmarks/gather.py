"""Fact gathering across many orgs: Lockstep's way against the naive way, in the same run.

    python benchmarks/gather.py --orgs 100 --latency-ms 100

Serves ``--orgs`` copies of the demo's production org from the emulator with
``--latency-ms`` added to every request, then gathers every fact of every org twice:

- naive: one org after another, one query per fact (what a hand-written script does);
- lockstep: orgs concurrently (bounded), each org's queries batched through composite
  requests, exactly as the plugin does before the first check.

Prints wall time and API calls per org for both, and the ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from lockstep.config.profile import load_profile
from lockstep.emulator import Emulator
from lockstep.facts.fetch import FACT_NAMES
from lockstep.session.orgs import EmulatorAccess, Landscape

DEMO_ORG = Path(__file__).resolve().parents[1] / "profiles" / "demo" / "prod.yaml"


def write_landscape(folder: Path, count: int) -> Path:
    states = folder / "states"
    states.mkdir()
    template = DEMO_ORG.read_text(encoding="utf-8")
    names = [f"org{n:04d}" for n in range(count)]
    for name in names:
        text = template.replace("name: prod\n", f"name: {name}\n", 1).replace("@acme.example.com",
                                                                              f"@{name}.example.com")
        (states / f"{name}.yaml").write_text(text, encoding="utf-8")
    profile = folder / "bench.yaml"
    profile.write_text("emulator: states\norgs:\n" + "".join(f"  - {{name: {n}, kind: production}}\n" for n in names),
                       encoding="utf-8")
    return profile


def naive(landscape: Landscape) -> float:
    started = time.perf_counter()
    for name in landscape.org_names:
        org = landscape.pool.get(name).connect()
        for fact in FACT_NAMES:
            getattr(org.facts, fact)
    return time.perf_counter() - started


def lockstep(landscape: Landscape) -> float:
    started = time.perf_counter()
    landscape.pool.connect_all(landscape.org_names, lambda name: FACT_NAMES)
    return time.perf_counter() - started


def measure(profile_path: Path, emulator: Emulator, way) -> tuple[float, float]:
    profile = load_profile(profile_path)
    landscape = Landscape(profile, profile.orgs, EmulatorAccess(str(emulator.url), str(emulator.ca_cert)))
    try:
        seconds = way(landscape)
        calls = landscape.api_calls()
        return seconds, sum(calls.values()) / len(calls)
    finally:
        landscape.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        profile = write_landscape(Path(tmp), args.orgs)
        with Emulator(str(profile.parent / "states"), latency_ms=args.latency_ms) as emulator:
            naive_s, naive_calls = measure(profile, emulator, naive)
            lockstep_s, lockstep_calls = measure(profile, emulator, lockstep)
    print(f"{args.orgs} orgs, {args.latency_ms} ms latency per request, {len(FACT_NAMES)} facts per org")
    print(f"{'way':<10}{'seconds':>10}{'API calls/org':>16}")
    print(f"{'naive':<10}{naive_s:>10.2f}{naive_calls:>16.1f}")
    print(f"{'lockstep':<10}{lockstep_s:>10.2f}{lockstep_calls:>16.1f}")
    print(f"speed-up: {naive_s / lockstep_s:.1f}x   API calls: {naive_calls / lockstep_calls:.1f}x fewer")


if __name__ == "__main__":
    main()
