"""``lockstep emulator serve``: serve state files until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from lockstep.config.errors import ConfigError

__all__ = ["serve_main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lockstep emulator serve",
        description="Serve emulated Salesforce orgs over HTTPS. Prints one JSON line "
        "(url, ca_cert, orgs with ready sessions), then serves until SIGINT/SIGTERM.",
    )
    parser.add_argument("--state", required=True, help="a state file (YAML) or a folder of them")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument("--latency-ms", type=int, default=0, help="latency added to every org's requests")
    return parser


def serve_main(argv: list[str]) -> int:
    """Run the server; returns the process exit code."""
    # Deferred: the server brings uvicorn and the whole app; argument errors answer without them.
    from lockstep.emulator.http.server import Emulator

    args = _parser().parse_args(argv)
    if args.latency_ms < 0 or not 0 <= args.port <= 65535:
        print("lockstep emulator serve: --latency-ms and --port must be non-negative", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        emulator = Emulator(args.state, host=args.host, port=args.port, latency_ms=args.latency_ms)
        with emulator:
            sys.stdout.write(json.dumps(emulator.info()) + "\n")
            sys.stdout.flush()
            while not stop.wait(0.5):
                pass
    except ConfigError as exc:
        print(f"lockstep emulator serve: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"lockstep emulator serve: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
