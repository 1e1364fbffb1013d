"""Lockstep's commands run in the test's own process, answering as a subprocess would.

A pytest run or a ``lockstep gate`` command in a subprocess costs a second of Python start-up and
imports; most tests read only the exit status, the output and the files written. These helpers
return the same :class:`subprocess.CompletedProcess`. Tests where a separate process is the point
(signals, a killed run, the environment, a FIFO that could block) keep ``subprocess``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from lockstep.cli import main


def gate_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``lockstep gate ARGS``: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(["gate", *args])
        except SystemExit as exc:  # argparse refuses a usage error with exit status 2
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(["lockstep", "gate", *args], code, out.getvalue(), err.getvalue())


def run_pytest(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` in ``cwd``, with the variables of ``env`` set for the run: exit
    status, stdout, stderr. The test session's own modules (its test files, conftests, helpers) are
    hidden during the run, so a check file named like one of them (``test_routes.py``) is imported
    from the run's folder, not found already imported; the run's own modules are forgotten after it."""
    hidden = {name: module for name, module in sys.modules.items() if _project_module(name)}
    path, here, environ = list(sys.path), os.getcwd(), dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    for name in hidden:
        del sys.modules[name]
    os.chdir(cwd)
    os.environ.update(env or {})
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = int(pytest.main(list(args)))
    finally:
        os.chdir(here)
        os.environ.clear()
        os.environ.update(environ)
        sys.path[:] = path
        for name in [name for name in sys.modules if _project_module(name)]:
            del sys.modules[name]
        sys.modules.update(hidden)
    return subprocess.CompletedProcess(["pytest", *args], code, out.getvalue(), err.getvalue())


_INSTALLED = tuple(str(Path(folder).resolve()) for folder in {sys.prefix, sys.base_prefix})


def _project_module(name: str) -> bool:
    """A module imported from a project's folder (not Lockstep, the standard library or a package)."""
    file = getattr(sys.modules[name], "__file__", None)
    if not file or name == "__main__" or name.split(".")[0] == "lockstep":
        return False
    return not str(Path(file).resolve()).startswith(_INSTALLED)
