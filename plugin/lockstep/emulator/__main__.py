"""``python -m lockstep.emulator serve ...``."""

from __future__ import annotations

import sys

from lockstep.emulator.cli import serve_main


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "serve":
        print("usage: python -m lockstep.emulator serve --state PATH [--host H] [--port N] [--latency-ms N]",
              file=sys.stderr)
        return 2
    return serve_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
