"""What ``AgentRoute.ask`` adds to one question besides the agents: MoRE's four experts as instant agents,
the router (knn, gnn) fitted on 1,500 questions of the log, then questions asked one at a time.

The blocking steps of a question (the query graph, the router) run on worker threads: kept across calls
and set to the torch thread count the application chose (``threads.LentPool``). Before that, each question
started threads of its own, and the GNN, routed on a thread where torch used every core, took 36-46 ms a
question on 2 busy cores (14-15 ms on idle ones) instead of about 7.

    .venv/bin/python benchmarks/ask_overhead.py [--n 150] [--routers knn,gnn] [--threads 1]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import time

import numpy as np
from _folds import parser
from rich.console import Console
from rich.table import Table

from agentroute import AgentRoute, agent, read_routing_log, set_torch_threads


def _instant(name: str):  # type: ignore[no-untyped-def]
    @agent(name=name, description=f"the {name} expert")
    def answer(q):  # type: ignore[no-untyped-def]
        return "x"

    return answer


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--n", type=int, default=150, help="questions timed one at a time, per router")
    p.add_argument("--history", type=int, default=1500, help="questions the router is fitted on")
    p.add_argument("--routers", default="knn,gnn")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (set_torch_threads)")
    args = p.parse_args(argv)
    if not args.log.exists():
        Console(stderr=True).print(f"skipped: {args.log} not found (run from the repository root next to ../shared)")
        return 0
    records = read_routing_log(args.log)
    names = sorted({a for r in records for a in r.agents})
    history, asked = records[: args.history], [r.question for r in records[args.history :]][: args.n + 20]
    set_torch_threads(args.threads)
    table = Table(title=f"AgentRoute.ask overhead, {len(names)} instant agents, {args.threads} torch thread(s)")
    for col in ("router", "ask p50 (ms)", "ask p95 (ms)", "ask_many (ms/question)"):
        table.add_column(col, justify="right")
    for router in args.routers.split(","):
        with AgentRoute([_instant(n) for n in names], router, timeout_s=5) as ar:
            ar.record(history)
            ar.fit()
            for q in asked[:20]:  # warm-up: imports, first graphs
                ar.ask(q)
            times = []
            for q in asked[20:]:
                start = time.perf_counter()
                ar.ask(q)
                times.append(time.perf_counter() - start)
            start = time.perf_counter()
            ar.ask_many(asked[20:])
            batched = (time.perf_counter() - start) / len(asked[20:])
        ms = np.array(times) * 1e3
        table.add_row(router, f"{np.percentile(ms, 50):.2f}", f"{np.percentile(ms, 95):.2f}", f"{batched * 1e3:.2f}")
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
