"""The emulator package's public surface."""

from __future__ import annotations

import lockstep.emulator
from lockstep.emulator.cli import __all__ as cli_all


def test_public_names_are_pinned() -> None:
    assert lockstep.emulator.__all__ == ["Emulator"]
    assert lockstep.emulator.Emulator.__name__ == "Emulator"
    assert cli_all == ["serve_main"]
