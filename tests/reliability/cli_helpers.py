"""Helpers for the reliability tests: run the CLI in-process or in a real subprocess, and kill it mid-run."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentroute.cli import app

REPO = Path(__file__).resolve().parents[2]


def cli_env() -> dict[str, str]:
    """The environment for a CLI subprocess: this checkout's package first, no debug tracebacks."""
    env = {k: v for k, v in os.environ.items() if k != "AGENTROUTE_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``agentroute ARGS`` in a subprocess (``python -m agentroute.cli``), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "agentroute.cli", *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_inproc(*args: str) -> tuple[int, str, str]:
    """``agentroute ARGS`` in this process (fast: no interpreter start): (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_main(*args: str) -> tuple[int, str, str]:
    """``agentroute ARGS`` through the console script's ``main`` (so usage errors are handled as a user
    sees them), in this process: (exit code, stdout, stderr)."""
    from agentroute.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["agentroute", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


def complete_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def kill_after_rows(args: list[str], results: Path, rows: int, cwd: Path, timeout: float = 120) -> int:
    """Start ``agentroute ARGS``, SIGKILL it as soon as ``results`` holds at least ``rows`` complete lines;
    returns the number of lines there at the kill. Fails the test if the run ends before that."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentroute.cli", *args],
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if complete_lines(results) >= rows:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return complete_lines(results)
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                pytest.fail(f"the run ended (code {proc.returncode}) before it could be killed: {err[-500:]}")
            time.sleep(0.01)
        pytest.fail(f"no {rows} rows in {results} after {timeout}s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    raise AssertionError("unreachable")
