"""A guest in someone else's process: the light entry points never import torch, and the public API resolves."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import agentroute

LIGHT = """
import json, sys
import agentroute
from agentroute import AgentRoute, Query, agent
from agentroute.cli import app
codes = []
for args in (["--help"], ["routers"], ["agents", "list"]):
    try:
        app(args, prog_name="agentroute")
        codes.append(0)
    except SystemExit as e:
        codes.append(e.code or 0)

@agent(name="echo")
def echo(q):
    return q.text

with AgentRoute([echo], "knn") as ar:
    answer = ar.ask("hello?")
agentroute.CheckpointError, agentroute.GNNConfig, agentroute.GNNConfig().train_config()  # names, not models
heavy = sorted(m for m in ("torch", "torch_geometric") if m in sys.modules)
print(json.dumps({"answer": answer.text, "codes": codes, "heavy": heavy}))
"""


def test_light_entry_points_and_a_knn_question_never_import_torch() -> None:
    out = subprocess.run([sys.executable, "-c", LIGHT], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == {"answer": "hello?", "codes": [0, 0, 0], "heavy": []}


def test_every_public_name_resolves() -> None:
    missing = [name for name in agentroute.__all__ if getattr(agentroute, name, None) is None]
    assert missing == []
    # type checkers see exactly the same names, each explicitly re-exported from where it lives
    source = Path(agentroute.__file__).read_text()
    typed = re.findall(r"^    from ([\w.]+) import (\w+) as \2$", source, re.M)
    assert {name: module for module, name in typed} == agentroute._EXPORTS and len(typed) == len(agentroute.__all__)
    wanted = {"GNNRouter", "load_router", "router_info", "register_embedder", "register_extractor"}
    wanted |= {"Router", "SharesTraining", "TracksSpend", "Embedder", "EntityExtractor", "Aggregator", "GraphStore"}
    assert wanted <= set(agentroute.__all__)


NON_GNN = """
import json, sys
from agentroute.bench.replay import run_replay_benchmark
from agentroute.types import AgentRecord, RunRecord

rows = []
for i in range(120):
    task, right = ("arith", "calc") if i % 2 == 0 else ("geo", "atlas")
    arith = f"Tom has {i} coins and buys {i + 1} more. How many now?"
    text = arith if task == "arith" else f"Which river crosses city {i}?"
    cells = {a: AgentRecord(score=float(a == right), pred=a) for a in ("calc", "atlas")}
    rows.append(RunRecord(qid=f"q{i}", dataset=task, question=text, agents=cells))
report = run_replay_benchmark(rows, folds=2, routers=["per-task", "mlp", "knn"])
print(json.dumps({"accuracy": [report.result(n).accuracy for n in ("per-task", "mlp", "knn")],
                  "pyg": "torch_geometric" in sys.modules}))
"""


def test_routers_other_than_the_gnn_train_and_route_without_torch_geometric() -> None:
    """torch_geometric costs seconds to import; only the GNN router needs it, so the task prior that
    ``per-task`` shares with the GNN lives outside the GNN package."""
    out = subprocess.run([sys.executable, "-c", NON_GNN], capture_output=True, text=True, check=True).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["pyg"] is False
    assert min(result["accuracy"]) > 0.9  # they really trained: each task has its own right agent


def test_every_agentroute_import_in_the_repository_resolves() -> None:
    """Scripts outside the package (benchmarks, examples, graphs, agents) import names that exist: a module
    moved or a name renamed breaks no script silently (they are not all run by the suite)."""
    import ast
    import importlib

    root = Path(__file__).resolve().parents[1]
    missing = []
    for folder in ("benchmarks", "examples", "graphs", "agents", "agentroute", "tests"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
                    continue
                if node.module.split(".")[0] != "agentroute":
                    continue
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if alias.name != "*" and not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{path.relative_to(root)}:{node.lineno}: {node.module}.{alias.name}")
    assert missing == []
