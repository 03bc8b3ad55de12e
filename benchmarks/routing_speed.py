"""GNN routing speed on MoRE questions: one question at a time (graph build + GNN forward) and batched.

Trains the GNN on fold 1 of a 5-fold split (or loads ``--checkpoint``), then routes the held-out questions.
Targets: p50 <= 5 ms per question, batched >= 2,000 questions/s.

    .venv/bin/python benchmarks/routing_speed.py [--device auto|cpu|cuda] [--n 500] [--threads 1] [--batch-threads 2]
"""

from __future__ import annotations

import os
import sys

# NumPy's BLAS threads only add overhead on these small matrices (and fight torch's threads): one each.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import time
from pathlib import Path

import numpy as np
from _folds import load_folds, parser, split
from rich.console import Console
from rich.table import Table

from agentroute.bench.replay import agent_order
from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.embed import make_embedder
from agentroute.kg.examples import as_query, make_examples
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.routers.gnn import GNNRouter
from agentroute.threads import set_torch_threads
from agentroute.types import AgentSpec


def _ms(values: list[float], q: float) -> float:
    return float(np.percentile(values, q) * 1e3)


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--n", type=int, default=500, help="questions timed one at a time")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads for one question at a time")
    p.add_argument(
        "--batch-threads", type=int, default=os.cpu_count() or 1, help="torch CPU threads for batched routing"
    )
    p.add_argument("--checkpoint", type=Path, default=None, help="route with a saved GNN instead of training")
    p.add_argument("--repeats", type=int, default=3, help="batched runs (the median is reported)")
    args = p.parse_args(argv)
    err = Console(stderr=True)
    loaded = load_folds(args.log)
    if loaded is None:
        return 0
    rows, fold_of = loaded
    train, test = split(rows, fold_of, 0)
    agents = [AgentSpec(name=a) for a in agent_order(rows)]
    embedder = make_embedder(args.embedder)
    builder = QueryGraphBuilder(NetworkXStore(), agents, embedder=embedder, history=train)
    if args.checkpoint:
        router = GNNRouter.load_unguarded(args.checkpoint, device=args.device)  # the bare GNN, as trained below
    else:
        err.print(f"training on {len(train)} questions ...", highlight=False)
        router = GNNRouter(seed=0, device=args.device, embedder=embedder)
        router.fit(make_examples(builder, train))
    set_torch_threads(args.threads)
    queries = [as_query(r) for r in test]

    for q in queries[:20]:  # warm-up: caches, allocator, lazily compiled PyG code
        router.route(builder.build(q))
    build_t, route_t, total_t = [], [], []
    for q in queries[: args.n]:
        t0 = time.perf_counter()
        graph = builder.build(q)
        t1 = time.perf_counter()
        router.route(graph)
        t2 = time.perf_counter()
        build_t.append(t1 - t0)
        route_t.append(t2 - t1)
        total_t.append(t2 - t0)

    set_torch_threads(args.batch_threads)
    batch_build, batch_route = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        graphs = builder.build_many(queries)
        t1 = time.perf_counter()
        router.route_many(graphs)
        t2 = time.perf_counter()
        batch_build.append(t1 - t0)
        batch_route.append(t2 - t1)
    n = len(queries)
    b, r = float(np.median(batch_build)), float(np.median(batch_route))

    threads = f"{args.threads} thread(s) one at a time, {args.batch_threads} batched"
    table = Table(title=f"GNN routing speed ({router.device.type}, {threads}, {args.embedder})")
    for col in ("measure", "graph build", "GNN route", "total", "target"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    table.add_row(
        "one question p50 (ms)", f"{_ms(build_t, 50):.2f}", f"{_ms(route_t, 50):.2f}", f"{_ms(total_t, 50):.2f}", "<= 5"
    )
    table.add_row(
        "one question p95 (ms)", f"{_ms(build_t, 95):.2f}", f"{_ms(route_t, 95):.2f}", f"{_ms(total_t, 95):.2f}", ""
    )
    table.add_row(f"batched, {n} questions (q/s)", f"{n / b:,.0f}", f"{n / r:,.0f}", f"{n / (b + r):,.0f}", ">= 2,000")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
