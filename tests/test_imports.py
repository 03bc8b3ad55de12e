"""A guest in someone else's process: the light entry points never import torch, and the public API resolves."""

from __future__ import annotations

import json
import subprocess
import sys

import agentroute

LIGHT = """
import json, sys
import agentroute
from agentroute import AgentRoute, Query, agent
from agentroute.cli import app
for args in (["--help"], ["routers"], ["agents", "list"]):
    try:
        app(args, prog_name="agentroute")
    except SystemExit:
        pass

@agent(name="echo")
def echo(q):
    return q.text

with AgentRoute([echo], "knn") as ar:
    answer = ar.ask("hello?")
print(json.dumps({"answer": answer.text, "heavy": sorted(m for m in ("torch", "torch_geometric") if m in sys.modules)}))
"""


def test_light_entry_points_and_a_knn_question_never_import_torch() -> None:
    out = subprocess.run([sys.executable, "-c", LIGHT], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == {"answer": "hello?", "heavy": []}


def test_every_public_name_resolves() -> None:
    missing = [name for name in agentroute.__all__ if getattr(agentroute, name, None) is None]
    assert missing == []
    wanted = {"GNNRouter", "load_router", "router_info", "register_embedder", "register_extractor"}
    assert wanted <= set(agentroute.__all__)
