"""Done-when: ``agentroute serve`` as a real subprocess on a free loopback port, driven by the ``openai`` client.

Chat completions (plain and streaming) carry the routing decision; feedback reaches the store file the
server saves on shutdown, and ``agentroute train --store`` then learns from the served traffic.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
from typer.testing import CliRunner

from agentroute.cli import app
from agentroute.kg.store import open_store
from agentroute.serve.server import build_service
from agentroute.testing.ports import free_port

POOL = """
from agentroute import agent

@agent(name="adder", description="Adds the numbers in a question.", skills=["arithmetic"])
def adder(q):
    return str(sum(int(t) for t in q.text.replace("?", " ").split() if t.isdigit()))

@agent(name="echo", description="Repeats the question.", skills=["testing"])
def echo(q):
    return q.text
"""

KEY = "serve-test-key-5f1c0a9b"


def _start(tmp_path: Path, store: str, port: int) -> subprocess.Popen[bytes]:
    (tmp_path / "pool.py").write_text(POOL)
    env = {**os.environ, "AGENTROUTE_API_KEY": KEY, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "agentroute.cli",
        "serve",
        "--agents",
        str(tmp_path / "pool.py"),
        "--router",
        "all",
        "--store",
        store,
        "--port",
        str(port),
        "--max-body",
        "4000",
        "--max-messages",
        "3",
    ]
    with (tmp_path / "server.log").open("wb") as log:  # the server keeps its own copy of the handle
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)


def _wait_healthy(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"server did not become healthy:\n{log.read_text()}")


def test_serve_answers_openai_clients_records_feedback_and_trains(tmp_path: Path) -> None:
    port, store_file = free_port(), tmp_path / "kg.json"
    store = f"file:{store_file}"
    proc = _start(tmp_path, store, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, base, tmp_path / "server.log")
        client = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0)
        question = [{"role": "user", "content": "What is 2 + 40?"}]
        resp = client.chat.completions.create(model="agentroute", messages=question)
        decision = resp.agentroute
        assert decision["router"] == "all" and sorted(decision["called"]) == ["adder", "echo"]
        assert {a["agent"]: a["answer"] for a in decision["agents"]}["adder"] == "42"

        chunks = list(
            client.chat.completions.create(
                model="agentroute", stream=True, messages=[{"role": "user", "content": "What is 1 + 2?"}]
            )
        )
        assert [c.agentroute["event"] for c in chunks if (c.model_extra or {}).get("agentroute")][0] == "decision"
        streamed_id = chunks[0].id

        auth = {"authorization": f"Bearer {KEY}"}
        fb = httpx.post(base + "/v1/feedback", headers=auth, json={"id": resp.id, "preferred": "42"})
        assert fb.status_code == 200 and fb.json()["scores"] == {"adder": 1.0, "echo": 0.0}
        fb = httpx.post(base + "/v1/feedback", headers=auth, json={"id": streamed_id, "preferred": "3"})
        assert fb.json()["scores"] == {"adder": 1.0, "echo": 0.0}
        assert httpx.post(base + "/v1/feedback", json={"id": resp.id, "score": 1}).status_code == 401

        completions = base + "/v1/chat/completions"  # the --max-messages and --max-body limits
        four = {"model": "agentroute", "messages": [{"role": "user", "content": "hi"}] * 4}
        refused = httpx.post(completions, headers=auth, json=four)
        assert refused.status_code == 400 and "limit of 3" in refused.text
        big = {"model": "agentroute", "messages": [{"role": "user", "content": "x" * 5000}]}
        assert httpx.post(completions, headers=auth, json=big).status_code == 413
    finally:
        proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully; the CLI then saves the store file
        try:
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    log = (tmp_path / "server.log").read_text()
    assert proc.returncode == 0, log
    assert KEY not in log and "Traceback" not in log

    saved = open_store(store)
    scores = {e["dst"]: e["score"] for e in saved.edges("PERFORMED", src=resp.id)}
    assert scores == {"adder": 1.0, "echo": 0.0}
    assert saved.get_node("Query", resp.id)["dataset"] == "served"
    saved.close()

    result = CliRunner().invoke(
        app, ["train", "--store", store, "--out", str(tmp_path / "model.pt"), "--epochs", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["questions"] == 2 and summary["agents"] == 2  # the two served runs that got feedback

    # ... and the checkpoint serves as `serve --model model.pt` would
    async def ask_with_checkpoint() -> list[str]:
        with open_store(store) as graph_store:
            service = build_service(graph_store, agents=str(tmp_path / "pool.py"), model=tmp_path / "model.pt")
            served = await service.ask("agentroute", service.query("What is 5 + 6?"))
            await service.aclose()
        assert served.answer.decision.router.startswith("gnn")
        return [r.agent for r in served.answer.results]

    assert asyncio.run(ask_with_checkpoint())


def test_serve_without_the_serve_extra_names_the_extra(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    from typer.testing import CliRunner

    from agentroute.cli import app

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a))
    result = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "serve needs fastapi: pip install 'agentroute[serve]'" in result.output
