"""Seconds to train the GNN router on one MoRE fold (≈3,800 training questions). Target: <= 60 s on 2 CPU cores.

Uses the replay benchmark's folds (5-fold by question, seed 0) and builds the training graphs with the
real ``QueryGraphBuilder``; graph building is timed separately from training.

    .venv/bin/python benchmarks/gnn_training.py [--device auto|cpu|cuda] [--folds-to-run 1] [--options '{}']
"""

from __future__ import annotations

import json
import sys
import time

from _folds import load_folds, parser, split
from rich.console import Console
from rich.table import Table

from agentroute.bench.replay import agent_order
from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.embed import make_embedder
from agentroute.kg.examples import make_examples
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.routers.gnn import GNNRouter
from agentroute.threads import set_torch_threads
from agentroute.types import AgentSpec


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--folds-to-run", type=int, default=1, help="how many of the 5 folds to train (1-5)")
    p.add_argument("--options", default="{}", help="GNNRouter options as JSON, e.g. '{\"hidden\": 128}'")
    args = p.parse_args(argv)
    set_torch_threads(1)  # these small graphs train fastest on one thread (agentroute.threads)
    err = Console(stderr=True)
    loaded = load_folds(args.log)
    if loaded is None:
        return 0
    rows, fold_of = loaded
    agents = [AgentSpec(name=a) for a in agent_order(rows)]
    embedder = make_embedder(args.embedder)
    options = json.loads(args.options)
    table = Table(title=f"GNN training time per MoRE fold ({args.embedder} embedder)")
    for col in ("fold", "train questions", "graphs (s)", "fit (s)", "epochs", "best epoch", "s/epoch", "device"):
        table.add_column(col, justify="right")
    for fold in range(min(max(args.folds_to_run, 1), 5)):
        train, _ = split(rows, fold_of, fold)
        t0 = time.perf_counter()
        builder = QueryGraphBuilder(NetworkXStore(), agents, embedder=embedder, history=train)
        examples = make_examples(builder, train)
        t1 = time.perf_counter()
        router = GNNRouter(seed=0, device=args.device, **options).fit(examples)
        t2 = time.perf_counter()
        rep = router.report
        assert rep is not None
        table.add_row(
            str(fold + 1),
            str(len(train)),
            f"{t1 - t0:.1f}",
            f"{t2 - t1:.1f}",
            str(rep.epochs_run),
            str(rep.best_epoch + 1),
            f"{rep.seconds / max(rep.epochs_run, 1):.2f}",
            router.device.type,
        )
        err.print(f"fold {fold + 1}: fit {t2 - t1:.1f}s", highlight=False)
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
