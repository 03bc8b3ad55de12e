"""Done when: a host graph with its own state embeds agentroute as a node, is invoked and streamed, is
checkpointed in SQLite and PostgreSQL, is killed (SIGKILL) after routing, and resumes without re-running
the routing or any agent that had finished."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from host_app import THREAD, calls, host_graph, saver, scenario
from langgraph.checkpoint.memory import InMemorySaver

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def test_invoke_and_stream_in_a_host_graph(tmp_path: Path) -> None:
    (tmp_path / "release").touch()
    app = host_graph(scenario(tmp_path, early_stop=False)).compile(checkpointer=InMemorySaver())
    final = app.invoke({"user_message": "What is 2 + 2?"}, {"configurable": {"thread_id": "a"}})
    assert final["reply"] == "The answer is 4."
    assert final["routing"].selected == ["a", "b", "c"]
    assert sorted(r.agent for r in final["agent_runs"]) == ["a", "b", "c"]

    chunks = list(
        app.stream(
            {"user_message": "What is 2 + 2?"}, {"configurable": {"thread_id": "b"}}, stream_mode=["updates", "custom"]
        )
    )
    events = [c for mode, c in chunks if mode == "custom"]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "decision" and kinds[-1] == "answer"
    assert sorted(kinds[1:-1]) == ["agent_finish"] * 3 + ["agent_start"] * 3
    for name in "abc":  # each agent starts before it finishes, and the finish carries its outcome
        mine = [e for e in events if e.get("agent") == name]
        assert [e["event"] for e in mine] == ["agent_start", "agent_finish"]
        finish = mine[1]
        assert finish["error"] is None and finish["latency_s"] >= 0 and "cost" in finish
    assert events[-1]["answer"] == "4" and events[-1]["called"] == ["a", "b", "c"]
    updates = [c for mode, c in chunks if mode == "updates"]
    assert list(updates[0]) == ["agentroute"] and updates[0]["agentroute"]["reply"] == "4"
    assert chunks.index(("updates", updates[0])) > max(i for i, (m, _) in enumerate(chunks) if m == "custom")


def pending_results(kind: str, target: str) -> int:
    """How many agent results the latest checkpoint of the embedded router graph holds as pending writes."""
    with saver(kind, target) as cp:
        tuples = [t for t in cp.list(THREAD) if t.config["configurable"]["checkpoint_ns"]]
        if not tuples:
            return 0
        return sum(1 for w in tuples[0].pending_writes or [] if w[1] == "results")


def run_until_killed(kind: str, target: str, workdir: Path, mode: str, started: list[str], finished: int) -> None:
    """Start the host app in a child process, wait until ``started`` were called and ``finished`` agent
    results are in the checkpoint, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, str(HERE / "host_app.py"), kind, target, str(workdir), mode], env=env)
    try:
        deadline = time.monotonic() + 120
        while sorted(calls(workdir)) != sorted(started) or pending_results(kind, target) < finished:
            assert child.poll() is None, f"the host app exited early with {child.returncode}"
            assert time.monotonic() < deadline, f"timed out; calls so far: {calls(workdir)}"
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_killed_run_resumes_without_rerunning_finished_agents(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target = str(tmp_path / "checkpoints.sqlite") if kind == "sqlite" else fresh_database(request)
    run_until_killed(kind, target, tmp_path, "plain", started=["route", "a", "b", "c"], finished=2)
    (tmp_path / "release").touch()
    with saver(kind, target) as cp:
        app = host_graph(scenario(tmp_path, early_stop=False)).compile(checkpointer=cp)
        final = app.invoke(None, THREAD)
    assert final["reply"] == "The answer is 4."
    assert sorted(r.agent for r in final["agent_runs"]) == ["a", "b", "c"]
    # routing and the two finished agents ran once; only c, killed mid-call, ran again
    assert sorted(calls(tmp_path)) == ["a", "b", "c", "c", "route"]


def test_early_stopping_waves_survive_a_resume(tmp_path: Path) -> None:
    # wave 1 = [a, b] disagree (4 vs 5), so wave 2 = [c]; killed while c blocks
    target = str(tmp_path / "checkpoints.sqlite")
    run_until_killed("sqlite", target, tmp_path, "early-stop", started=["route", "a", "b", "c"], finished=0)
    (tmp_path / "release").touch()
    with saver("sqlite", target) as cp:
        app = host_graph(scenario(tmp_path, early_stop=True)).compile(checkpointer=cp)
        final = app.invoke(None, THREAD)
    assert final["reply"] == "The answer is 5."  # b and c (0.6) outvote a (0.4), as calling all three would
    assert sorted(calls(tmp_path)) == ["a", "b", "c", "c", "route"]


def fresh_database(request: pytest.FixtureRequest) -> str:
    """A new database on the session's PostgreSQL server (dropped after the test), so tests never see
    each other's checkpoints."""
    import psycopg

    uri = request.getfixturevalue("postgres_uri")
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    base, _, _ = uri.rpartition("/")
    return f"{base}/{name}"
