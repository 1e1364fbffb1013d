"""What to do when something a test needs is not on this machine: skip with the reason, but
fail under CI (``CI=true``): ``.ci/run`` installs and provides everything, so there a missing
piece is a broken setup, never a test that quietly did not run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {reason} (.ci/run provides it)", pytrace=False)
    pytest.skip(reason)


RECORDINGS_VARIABLE = "LOCKSTEP_SF_RECORDED"
_SHARED_RECORDINGS = Path(__file__).resolve().parents[1].parent / "shared" / "sf-recorded"


def recordings() -> Path | None:
    """The folder of responses recorded from real orgs: ``$LOCKSTEP_SF_RECORDED``, else
    ``shared/sf-recorded`` beside the checkout; ``None`` when it is not there."""
    folder = Path(os.environ.get(RECORDINGS_VARIABLE) or _SHARED_RECORDINGS)
    return folder if folder.is_dir() else None


def no_recordings() -> NoReturn:
    """Named but missing (``.ci/run`` names them whenever they are beside the checkout): fail;
    not named and not beside the checkout: skip, saying where they are looked for."""
    named = os.environ.get(RECORDINGS_VARIABLE)
    if named:
        pytest.fail(f"{RECORDINGS_VARIABLE}={named}: no such folder of recorded Salesforce responses", pytrace=False)
    pytest.skip(f"recorded Salesforce responses not found: set {RECORDINGS_VARIABLE} or place shared/sf-recorded "
                "next to the checkout")
