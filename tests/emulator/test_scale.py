"""Hundreds of orgs at once: quick start, concurrent clients, latency that never serialises orgs."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from emulator_helpers import StateFactory, admin, session_for

from lockstep.emulator import Emulator

ORGS = 300
LATENCY_MS = 300
CLIENTS = 60


def test_three_hundred_orgs_answer_concurrently(start_emulator: StateFactory) -> None:
    states = [{"org": {"name": f"org{n:03d}"},
               "records": {"Account": [{"Name": f"Account of org{n:03d}"}]}} for n in range(ORGS)]
    emu: Emulator = start_emulator(*states, latency_ms=LATENCY_MS)

    def ask(orgs: list[dict[str, str]]) -> list[str]:
        session = session_for(emu)
        names = []
        for org in orgs:
            response = session.get(f"{emu.url}/services/data/v62.0/query", params={"q": "SELECT Name FROM Account"},
                                   headers={"Authorization": f"Bearer {org['access_token']}"}, timeout=30)
            response.raise_for_status()
            names.append(str(response.json()["records"][0]["Name"]))
        return names

    shares = [emu.orgs[i::CLIENTS] for i in range(CLIENTS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(ask, shares))
    elapsed = time.perf_counter() - started
    for share, names in zip(shares, answers, strict=True):
        assert names == [f"Account of {org['name']}" for org in share]
    serialised = ORGS * LATENCY_MS / 1000
    assert elapsed < serialised / 4, (
        f"{ORGS} requests of {LATENCY_MS} ms took {elapsed:.1f} s (serialised: {serialised:.0f} s)")
    assert all(org["api_calls"] == 1 for org in admin(emu, "GET", "orgs"))
