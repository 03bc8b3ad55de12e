"""Replay benchmark from the command line, with timings: every router on a routing log, same folds.

    LOGS=../shared/data/routing_logs
    .venv/bin/python benchmarks/replay_bench.py $LOGS/more_reasoning_experts/unified_test.jsonl
    .venv/bin/python benchmarks/replay_bench.py $LOGS/llmrouter_9llm/unified_train.jsonl \
        --test $LOGS/llmrouter_9llm/unified_test.jsonl --routers knn,mlp,best-single,all,oracle
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rich.console import Console

from agentroute.bench.logs import read_routing_log
from agentroute.bench.replay import run_replay_benchmark
from agentroute.bench.report import report_table
from agentroute.bench.write import write_report
from agentroute.routers import DEFAULT_ROUTERS
from agentroute.threads import set_torch_threads


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("log", type=Path, help="unified routing log (.jsonl or .jsonl.gz)")
    p.add_argument("--test", type=Path, default=None, help="separate test log (train on LOG, test on this)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--routers", default=",".join(DEFAULT_ROUTERS), help="comma-separated router names")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--embedder", default="hashing")
    p.add_argument("--aggregator", default="answer-aware")
    p.add_argument("--options", default="{}", help='router options as JSON, e.g. \'{"knn": {"k": 2}}\'')
    p.add_argument("--out", type=Path, default=None, help="write report.json/.md and plots here")
    p.add_argument("--json", action="store_true", help="print the JSON summary instead of the table")
    args = p.parse_args(argv)
    set_torch_threads(1)  # these small graphs train fastest on one thread (agentroute.threads)

    err = Console(stderr=True)
    start = time.perf_counter()
    records = read_routing_log(args.log)
    test = read_routing_log(args.test) if args.test else None
    read_s = time.perf_counter() - start
    report = run_replay_benchmark(
        records,
        test_records=test,
        folds=args.folds,
        routers=[r for r in args.routers.split(",") if r],
        seed=args.seed,
        embedder=args.embedder,
        aggregator=args.aggregator,
        router_options=json.loads(args.options),
        progress=lambda m: err.print(m, style="dim", highlight=False),
        title=f"{args.log.name}" + (f" → {args.test.name}" if args.test else f", {args.folds}-fold"),
    )
    total_s = time.perf_counter() - start
    if args.out:
        for path in write_report(report, args.out):
            err.print(f"wrote {path}")
    if args.json:
        sys.stdout.write(json.dumps(report.to_json_summary()) + "\n")
    else:
        Console(width=140).print(report_table(report))
    err.print(
        f"read {read_s:.1f}s, graphs {report.seconds_graphs:.1f}s, total {total_s:.1f}s; "
        f"skipped {report.skipped} rows, dropped {report.dropped_overlap} test rows seen in train"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
