"""Train the GNN router and evaluate it against baselines, on real routing logs or the built-in suite.

    python examples/train_gnn.py                      # the shared routing logs when present, else the suite
    python examples/train_gnn.py --train 2000 --test 500 --epochs 40 --ensemble 3   # the full-size run

Uses ../shared/data/routing_logs/llmrouter_9llm (nine LLMs' recorded answers) when that folder exists beside
the checkout; otherwise it profiles the built-in suite's tool agents to make a routing log first. The
defaults are small so the example finishes in about a minute on a laptop CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from agentroute import AgentRoute, build_suite, read_routing_log, run_replay_benchmark
from agentroute.bench.report import report_table
from agentroute.threads import set_torch_threads

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "routing_logs" / "llmrouter_9llm"

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--train", type=int, default=300, help="training questions")
parser.add_argument("--test", type=int, default=150, help="test questions")
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--ensemble", type=int, default=1, help="GNN ensemble members")
parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (small graphs: 1 is fastest)")
args = parser.parse_args()
set_torch_threads(args.threads)  # an application's choice: with busy cores, more threads only wait on each other

if (SHARED / "unified_train.jsonl").exists():
    source = f"routing log {SHARED.name}"
    train = read_routing_log(SHARED / "unified_train.jsonl")[: args.train]
    test = read_routing_log(SHARED / "unified_test.jsonl")[: args.test]
else:
    source = "the built-in suite (no shared routing logs found)"
    suite = build_suite(seed=0)
    with AgentRoute(suite.agents, "all") as profiler:  # run every agent on every question, score against gold
        train = profiler.profile(suite.train[: args.train], record=False)
        test = profiler.profile(suite.test[: args.test], record=False)

print(f"training on {len(train)} questions and testing on {len(test)} from {source}")
report = run_replay_benchmark(
    train,
    test_records=test,
    routers=["gnn", "knn", "best-single", "all", "oracle"],
    router_options={"gnn": {"epochs": args.epochs, "ensemble": args.ensemble, "device": "cpu"}},
    title=f"GNN router on {source}",
)
Console(width=120).print(report_table(report))
