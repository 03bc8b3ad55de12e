"""Every example runs to completion offline (``python examples/<file>.py``) and prints a real result."""

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
#: What some examples must print (their real results); every example must print something.
EXPECTED = {
    "checkpoint_resume.py": "agent calls in total: {'adder': 1, 'guesser': 1}",
    "approve_routing.py": "-> called [], answer ''",
    "stream_run.py": "answer: 391",
    "langgraph_node.py": "bot: The answer is 40 (asked calculator, generalist).\n(gold",  # the fallback agent
    "reasoning_router.py": "skipped: no OpenAI-compatible endpoint",
    "train_gnn.py": "│ gnn ",
    "define_agents.py": "'What is the capital of Japan?'     -> 'Tokyo'  via ['atlas']",
    "neo4j_store.py": "'PERFORMED': 4200}",  # the built-in suite's history, read back from the Bolt server
    "your_own_agents.py": "wrote 60 questions to",
}


def run_example(path: Path, cwd: Path, **extra_env: str) -> str:
    """Run an example in ``cwd`` (anything it writes lands there) with no endpoint configured."""
    env = {k: v for k, v in os.environ.items() if k not in ONLINE}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env.update(extra_env)
    proc = subprocess.run([sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    assert proc.stdout.strip(), f"{path.name} printed nothing"
    return proc.stdout


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_offline(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "project" / "examples" / path.name  # a fresh clone's layout: no ../shared beside it
    copy.parent.mkdir(parents=True)
    copy.write_bytes(path.read_bytes())
    assert EXPECTED[path.name] in run_example(copy, tmp_path)


def test_reasoning_example_routes_through_an_endpoint(tmp_path: Path) -> None:
    from agentroute.testing.chat_server import ChatRequest, ChatServer

    # the suite lists calculator first (A1) and unit-converter second (A2)
    def reply(request: ChatRequest) -> str:
        chosen = "A2" if "km to miles" in request.prompt else "A1"
        return f"<Reason>this agent's description fits</Reason>\n<ID>{chosen}</ID>"

    with ChatServer(reply) as server:
        env = {"AGENTROUTE_BASE_URL": server.url, "AGENTROUTE_LLM_MODEL": "scripted"}
        out = run_example(ROOT / "examples" / "reasoning_router.py", tmp_path, **env)
    assert "What is 17 * 23? -> '391' via ['calculator']" in out
    assert "via ['unit-converter']" in out and "this agent's description fits" in out
