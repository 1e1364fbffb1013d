"""The ``lockstep`` command.

    lockstep emulator serve --state PATH [--host H] [--port N] [--latency-ms N]
    lockstep gate show PATH [--markdown]
    lockstep gate merge GATE... -o OUT
    lockstep gate check PATH [--run-id ID] [--max-age AGE] [--release ID] [--phase PHASE] [--profile NAME]
                             [--allow-partial]
    lockstep init [-o profiles/orgs.yaml] [--sf sf]
    lockstep expect --org-profile P --org NAME
    lockstep snapshot --org-profile P --org NAME -o FILE [--records A,B] [--limit N] [--force]

``gate check`` exits 0 only for a consistent "go" gate of a complete run (of the given run,
no older than the given age, matching the given release/phase/profile), 1 for a no-go, a
"go" that another field contradicts, a partial run (``--orgs``, ``-k``, deselected tests;
accepted with ``--allow-partial``) or a mismatch, 2 for a missing or malformed gate file.
``gate merge`` writes the gate of a sharded run (:mod:`lockstep.gate.merge`) and exits like
``gate check`` on it without options: 0 for a go, 1 for a no-go, 2 for an unreadable input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from lockstep.gate.file import GateFileError, acceptance_problems, parse_age, read_gate, write_gate
from lockstep.gate.merge import merge_gates
from lockstep.gate.model import Gate
from lockstep.gate.upstream import partial_problem
from lockstep.reports.markdown import markdown_summary
from lockstep.reports.terminal import summary_lines

__all__ = ["main"]


def _show(gate: Gate, path: str) -> str:
    lines = [
        f"gate:     {path}",
        f"decision: {gate.decision.upper()}" + "".join(f" (refused: {p})" for p in gate.contradictions()[:1]),
        f"release:  {gate.release or '-'}",
        f"profile:  {gate.profile.name} (sha256 {gate.profile.sha256[:12]})",
        f"phase:    {gate.phase}",
        f"run:      {gate.run_id or '-'}, {gate.started} .. {gate.finished or 'not finished'}",
    ]
    if gate.catalog is not None:
        lines.append(f"catalog:  {gate.catalog.line()}")
    lines.append("")
    lines += [line for line, _ in summary_lines(gate, limit=None)]
    return "\n".join(lines)


def _check(gate: Gate, args: argparse.Namespace) -> list[str]:
    problems = gate.contradictions() if gate.go else [
        f"decision is no-go ({len(gate.reasons)} reasons" + (f": {gate.reasons[0]})" if gate.reasons else ")")]
    problems += acceptance_problems(gate, run_id=args.run_id, max_age=args.max_age)
    if args.release is not None and gate.release != args.release:
        found = repr(gate.release) if gate.release else "not given (the run had no --release)"
        problems.append(f"release is {found}, expected {args.release!r}")
    if args.phase is not None and gate.phase not in (args.phase, "all"):
        problems.append(f"phase is {gate.phase!r}, expected {args.phase!r}")
    if args.profile is not None and gate.profile.name != args.profile:
        problems.append(f"profile is {gate.profile.name!r}, expected {args.profile!r}")
    partial = None if args.allow_partial else partial_problem(gate)
    if partial is not None:
        problems.append(f"not the gate of a complete run: {partial}; pass --allow-partial to accept it")
    return problems


def _gate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lockstep gate", description="Read a Lockstep gate file.")
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print a gate file")
    show.add_argument("path")
    show.add_argument("--markdown", action="store_true", help="print the Markdown summary")
    check = commands.add_parser("check", help="exit 0 only for a go gate (optionally of a release/phase/profile)")
    check.add_argument("path")
    check.add_argument("--run-id", default=None, type=_run_id,
                       help="accept only the gate of this run (pytest --run-id)")
    check.add_argument("--max-age", default=None, type=_age, metavar="AGE",
                       help="refuse a gate whose run finished longer ago (90m, 12h, 2d)")
    check.add_argument("--release", default=None)
    check.add_argument("--phase", default=None, choices=("readiness", "verification", "all"))
    check.add_argument("--profile", default=None)
    check.add_argument("--allow-partial", action="store_true",
                       help="accept the gate of a narrowed run (--orgs, -k, deselected tests)")
    merge = commands.add_parser("merge", help="one gate from the gates of every shard (pytest --org-shard i/n)")
    merge.add_argument("paths", nargs="+", metavar="GATE")
    merge.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write the merged gate")
    return parser


def _run_id(text: str) -> str:
    if not text.strip() or not text.strip().isprintable():
        raise argparse.ArgumentTypeError(f"expected one line of printable text, got {text!r}")
    return text.strip()


def _age(text: str) -> float:
    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def gate_main(argv: Sequence[str]) -> int:
    args = _gate_parser().parse_args(list(argv))
    if args.command == "merge":
        return _merge(args.paths, args.output)
    try:
        gate = read_gate(args.path)
    except GateFileError as exc:
        print(f"lockstep gate: {exc}", file=sys.stderr)
        return 2
    if args.command == "show":
        if args.markdown:
            sys.stdout.write(markdown_summary(gate))
        else:
            print(_show(gate, args.path))
        return 0
    problems = _check(gate, args)
    for problem in problems:
        print(f"lockstep gate: {args.path}: {problem}", file=sys.stderr)
    if not problems:
        print(f"lockstep gate: {args.path}: GO (run {gate.run_id or '-'}, finished {gate.finished})")
    return 1 if problems else 0


def _merge(paths: Sequence[str], output: str) -> int:
    try:
        merged = merge_gates([(path, read_gate(path)) for path in paths])
    except GateFileError as exc:
        print(f"lockstep gate: {exc}", file=sys.stderr)
        return 2
    try:
        write_gate(Path(output), merged)
    except OSError as exc:
        print(f"lockstep gate: {output}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for reason in merged.reasons:
        print(f"lockstep gate: {output}: {reason}", file=sys.stderr)
    problem = partial_problem(merged) if merged.go else None
    if problem is not None:
        print(f"lockstep gate: {output}: not the gate of a complete run: {problem}", file=sys.stderr)
    print(f"lockstep gate: {output}: {merged.decision.upper()} ({len(paths)} shard gates, {len(merged.orgs)} orgs)")
    return 0 if merged.go else 1


_USAGE = """usage: lockstep COMMAND ...

commands:
  emulator serve --state PATH   serve emulated Salesforce orgs over HTTPS
  gate show PATH                print a gate file
  gate check PATH               exit 0 only for a go gate
  gate merge GATE... -o OUT     one gate from the gates of every shard
  init [-o FILE]                write a starter profile from the Salesforce CLI's orgs
  expect --org-profile P --org NAME   print the expect: block the org satisfies now
  snapshot --org-profile P --org NAME -o FILE   copy an org into an emulator state file
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(_USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "emulator":
        if not rest or rest[0] != "serve":
            sys.stderr.write("usage: lockstep emulator serve --state PATH [--host H] [--port N] [--latency-ms N]\n")
            return 2
        # each command imports its own module when it runs: `lockstep gate` and `--help` never load
        # the emulator's server, the Salesforce client or the profile loader
        from lockstep.emulator.cli import serve_main

        return serve_main(rest[1:])
    if command == "gate":
        return gate_main(rest)
    if command == "init":
        from lockstep.commands.init import init_main  # loaded when run (see above)

        return init_main(rest)
    if command == "expect":
        from lockstep.commands.expect import expect_main  # loaded when run (see above)

        return expect_main(rest)
    if command == "snapshot":
        from lockstep.commands.snapshot import snapshot_main  # loaded when run (see above)

        return snapshot_main(rest)
    sys.stderr.write(f"lockstep: unknown command {command!r}\n{_USAGE}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
