"""The code's static checks, so the test command (and CI) enforces them: ruff's lint rules and format, and
mypy's type check of ``agentroute/`` (all configured in pyproject.toml). Both come with the ``dev`` extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    done = _run("ruff", "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_would_change_nothing() -> None:
    done = _run("ruff", "format", "--check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_no_type_errors() -> None:
    done = _run("mypy", "--no-error-summary")
    assert done.returncode == 0, done.stdout + done.stderr
