"""Every example runs to completion offline (``python examples/<file>.py``) and prints a result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
#: Endpoints an example would use when configured; unset, every example must run on its own.
ONLINE = ("NEO4J_URI", "POSTGRES_URI", "AGENTROUTE_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_offline(path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ONLINE}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    assert proc.stdout.strip(), f"{path.name} printed nothing"
