"""Helpers for the reliability tests: run the CLI in-process or in a real subprocess, and kill it mid-run."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
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
    return stop_after_rows(args, results, rows, cwd, timeout=timeout).lines


@dataclass
class Stopped:
    """What ``stop_after_rows`` saw: result lines at the signal, the run's children then, its exit code and
    the seconds from the signal to its exit."""

    lines: int
    children: list[int]
    returncode: int
    seconds: float


def children_of(pid: int) -> list[int]:
    """The process's live children (Linux ``/proc``)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _as_from_a_terminal() -> None:
    """Ctrl-C as a terminal's foreground job gets it: a test run started in the background (``pytest &``)
    ignores SIGINT, and a child started from it would inherit that and never see the signal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_after_rows(
    args: list[str],
    results: Path,
    rows: int,
    cwd: Path,
    sig: signal.Signals = signal.SIGKILL,
    group: bool = False,
    timeout: float = 120,
) -> Stopped:
    """Start ``agentroute ARGS`` in a session of its own and send it ``sig`` as soon as ``results`` holds at
    least ``rows`` complete lines (``group``: to its whole process group, as Ctrl-C in a terminal does).
    Fails the test if the run ends before that, or does not end within ``timeout`` of the signal."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentroute.cli", *args],
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_as_from_a_terminal,
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if complete_lines(results) >= rows:
                children, signalled = children_of(proc.pid), time.monotonic()
                if group:
                    os.killpg(proc.pid, sig)
                else:
                    os.kill(proc.pid, sig)
                proc.wait(timeout=timeout)
                return Stopped(complete_lines(results), children, proc.returncode, time.monotonic() - signalled)
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                pytest.fail(f"the run ended (code {proc.returncode}) before it could be stopped: {err[-500:]}")
            time.sleep(0.01)
        pytest.fail(f"no {rows} rows in {results} after {timeout}s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    raise AssertionError("unreachable")
