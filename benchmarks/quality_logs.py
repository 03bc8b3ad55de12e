"""Every shared routing log with >= 2 agents and >= 300 questions, the same way: does any learned router lose
to the best single agent, and what do the cost–quality sweeps say?

    python benchmarks/quality_logs.py                       # every log (slow: MoRE and RouteLLM dominate)
    python benchmarks/quality_logs.py --only routerarena,fireact --out bench-out
    python benchmarks/quality_logs.py --only routellm --routers gnn,gnn-top1 --out bench-gnn   # one process per

Per log: `bench run` with --sweep (k-fold where the log has no split; LLMRouter train -> deduplicated test),
reports written under --out/<log>/, and one summary table: each learned router's accuracy and its paired
difference to best single (95% bootstrap interval; * = excludes 0), APGR / CPT(50%) on two-agent logs and
AIQ where the log has dollar costs. ``--subsample N`` evaluates a seeded subset of N rows (said in the table).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from agentroute.bench.logs import read_routing_log
from agentroute.bench.replay import run_replay_benchmark
from agentroute.bench.write import write_report
from agentroute.threads import set_torch_threads

LOGS = Path("../shared/data/routing_logs")
#: name -> (train log, test log or None)
SOURCES = {
    "routerarena": ("routerarena_2llm/unified_test.jsonl", None),
    "fireact": ("fireact_hotpotqa_3agents/unified_dev.jsonl", None),
    "r1searcher-hotpotqa": ("r1searcher_2agents/unified_hotpotqa.jsonl", None),
    "llmrouter": ("llmrouter_9llm/unified_train.jsonl", "llmrouter_9llm/unified_test.jsonl"),
    "more": ("more_reasoning_experts/unified_test.jsonl", None),
    "routellm": ("routellm_2llm/unified_all.jsonl", None),
}
LEARNED = ("gnn", "gnn-top1", "knn", "mlp", "per-task")
ROUTERS = (*LEARNED, "best-single", "all", "random", "oracle")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(SOURCES), help="comma-separated subset of: " + ", ".join(SOURCES))
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--jobs", type=int, default=1, help="folds run in this many worker processes (bench run --jobs)")
    p.add_argument("--embedder", default="hashing")
    p.add_argument("--subsample", type=int, default=None, help="evaluate a seeded subset of N rows per log")
    p.add_argument("--routers", default=",".join(ROUTERS), help="comma-separated routers (default: all nine)")
    p.add_argument("--options", default="{}", help="router options as JSON (as bench run --options)")
    p.add_argument("--out", type=Path, default=Path("bench-quality"))
    p.add_argument("--logs-dir", type=Path, default=LOGS, help="the shared routing_logs folder")
    args = p.parse_args(argv)
    err = Console(stderr=True)
    set_torch_threads(1)  # these small graphs train fastest on one thread (agentroute.threads)
    table = Table(title=f"learned routers vs best single ({args.embedder} embedder)")
    for h in (
        "log",
        "n",
        "best single",
        "router",
        "accuracy",
        "calls",
        "Δ best single [95% CI]",
        "guard",
        "APGR",
        "CPT(50%)",
        "AIQ",
    ):
        table.add_column(h, justify="left" if h in ("log", "router", "guard") else "right")
    for name in [n for n in args.only.split(",") if n]:
        train_path, test_path = SOURCES[name]
        if not (args.logs_dir / train_path).exists():
            err.print(f"skipped {name}: {args.logs_dir / train_path} not found")
            continue
        records = read_routing_log(args.logs_dir / train_path)
        test = read_routing_log(args.logs_dir / test_path) if test_path else None
        note = ""
        if args.subsample and test is None and len(records) > args.subsample:
            keep = np.random.default_rng(0).permutation(len(records))[: args.subsample]
            records = [records[i] for i in sorted(keep)]
            note = f" (subset {args.subsample})"
        start = time.perf_counter()
        report = run_replay_benchmark(
            records,
            test_records=test,
            folds=args.folds,
            routers=[r for r in args.routers.split(",") if r],
            embedder=args.embedder,
            router_options=json.loads(args.options),
            progress=lambda m: err.print(m, style="dim", highlight=False),
            title=f"{name}{note}",
            sweep=True,
            jobs=args.jobs,
        )
        write_report(report, args.out / name)
        err.print(f"{name}: {time.perf_counter() - start:.0f}s")
        summary = report.curve_summary()
        for r in report.results:
            if r.router not in LEARNED:
                continue
            s = summary.get(r.router, {})
            table.add_row(
                f"{name}{note}",
                str(report.n),
                f"{report.best_single:.3f}",
                r.router,
                f"{r.accuracy:.3f}",
                f"{r.calls_per_query:.2f}",
                r.vs_best_single.short() if r.vs_best_single else "–",
                (r.guard or "").split(":")[0],
                "–" if s.get("apgr") is None else f"{s['apgr']:.3f}",
                "–" if s.get("cpt50") is None else f"{100 * s['cpt50']:.1f}%",
                "–" if s.get("aiq") is None else f"{s['aiq']:.3f}",
            )
        Console(width=200).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
