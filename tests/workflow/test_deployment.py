"""graphs/langgraph.json served by LangGraph's own dev server (``langgraph dev``), driven with langgraph-sdk."""

from __future__ import annotations

import json
import os
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentroute.testing.ports import free_port

GRAPHS = Path(__file__).parents[2] / "graphs"


def graph_module() -> dict[str, Any]:
    return runpy.run_path(str(GRAPHS / "router_graph.py"))


def test_graph_module_only_builds_the_graph(tmp_path: Path) -> None:
    pool = tmp_path / "pool.py"
    pool.write_text(
        "from pathlib import Path\n"
        "from agentroute import agent\n"
        f"LOG = Path({str(tmp_path / 'calls.log')!r})\n"
        "@agent(name='adder', description='adds numbers', skills=['arithmetic'])\n"
        "def adder(q):\n"
        "    LOG.open('a').write('adder\\n')\n"
        "    return str(sum(int(t) for t in q.text.replace('?', '').split() if t.isdigit()))\n"
    )
    env = {"AGENTROUTE_AGENTS": str(pool), "AGENTROUTE_APPROVAL": "1", "AGENTROUTE_K": "1"}
    graph = graph_module()["make_graph"](env)
    assert not (tmp_path / "calls.log").exists()  # building ran no agent
    assert "approve" in graph.get_graph().nodes
    assert set(graph.get_input_jsonschema()["properties"]) == {"question"}
    assert set(graph.get_output_jsonschema()["properties"]) == {"answer", "decision", "results", "support"}
    for bad in ("zero", "0", "-2"):
        with pytest.raises(ValueError, match=rf"AGENTROUTE_K='{bad}': expected a whole number of at least 1"):
            graph_module()["make_graph"]({**env, "AGENTROUTE_K": bad})


def test_graph_module_gives_a_torch_router_one_torch_thread_unless_told() -> None:
    """A GNN fitted at start-up with torch's default thread count took ten times as long on busy cores;
    a router that does not run on torch does not import it."""
    script = (
        "import runpy, sys\n"
        f"module = runpy.run_path({str(GRAPHS / 'router_graph.py')!r}, run_name='not_main')\n"
        "env = dict(a.split('=', 1) for a in sys.argv[1:])\n"
        "module['make_app'](env).close()\n"
        "import torch\n"
        "print('torch' if 'torch_geometric' in sys.modules else 'no torch', torch.get_num_threads())\n"
    )
    root = str(GRAPHS.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}

    def run(*assignments: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", script, *assignments], capture_output=True, text=True, env=env, timeout=300
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout.strip().splitlines()[-1]

    assert run("AGENTROUTE_ROUTER=gnn") == "torch 1"
    assert run("AGENTROUTE_ROUTER=gnn", "AGENTROUTE_TORCH_THREADS=3") == "torch 3"
    assert run("AGENTROUTE_ROUTER=knn").startswith("no torch")


@pytest.fixture
def dev_server(tmp_path: Path) -> Any:
    """``langgraph dev`` on a free loopback port serving graphs/langgraph.json, stopped after.

    ``langgraph dev`` resolves the config's paths against its working directory and keeps its state in
    ``./.langgraph_api``, so it runs in ``tmp_path`` on a copy of the config whose paths are made absolute.
    """
    config = json.loads((GRAPHS / "langgraph.json").read_text())
    config["dependencies"] = [str((GRAPHS / d).resolve()) for d in config["dependencies"]]
    config["graphs"] = {name: str((GRAPHS / spec).resolve()) for name, spec in config["graphs"].items()}
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    port = free_port()
    root = str(GRAPHS.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
    }
    cli = Path(sys.executable).parent / "langgraph"
    cmd = [str(cli), "dev", "--config", "langgraph.json", "--host", "127.0.0.1", "--port", str(port)]
    log_path = tmp_path / "langgraph-dev.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the server writes to it until the fixture ends
    server = subprocess.Popen(
        [*cmd, "--no-browser", "--no-reload"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, "langgraph dev exited:\n" + log_path.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(url + "/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "langgraph dev did not answer within 120 s"
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_langgraph_dev_serves_the_router_graph(dev_server: str) -> None:
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=dev_server)
    thread = client.threads.create()
    out = client.runs.wait(thread["thread_id"], "agentroute", input={"question": "What is 17 * 23?"})
    assert set(out) == {"answer", "decision", "results", "support"}  # no query graph, no embedding vectors
    assert out["answer"] == "391" and out["decision"]["selected"] == ["calculator"]
    assert [r["agent"] for r in out["results"]] == ["calculator"]

    parts = client.runs.stream(
        thread["thread_id"], "agentroute", input={"question": "What is 2 + 2?"}, stream_mode="custom"
    )
    events = [p.data["event"] for p in parts if p.event == "custom"]
    assert events == ["decision", "agent_start", "agent_finish", "answer"]
