"""Adding an agent without retraining: train the GNN on MoRE with one agent left out, add its spec at test time.

For each left-out agent (fold 1 of the replay benchmark's 5-fold split, seed 0):

* *profiled*: the new agent has been run on the past questions, so the test-time history holds its
  PERFORMED edges (how a new agent is normally introduced); the GNN was never trained with it.
* *spec only*: no history for it, just its spec (MoRE agents are bare names, so expect little here),
  once routed by the bare GNN (which holds an agent without history at the weakest known agent's probability;
  ``--options '{"hold_unproven": false}'`` shows the GNN's own extrapolation) and once as ``AgentRoute``
  routes it (``route_with_cold_start``: an agent without history on the question's similar past questions
  is routed by its description instead).

Reported: how often it is chosen on the test questions where it is the unique best agent, how often it
is chosen at all, and top-1 accuracy with the 3-agent pool, with the new agent added, and of a GNN
trained with all four agents (the ceiling for this fold).

    .venv/bin/python benchmarks/new_agent.py [--agent math] [--options '{}']
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import numpy as np
from _folds import load_folds, parser, split
from rich.console import Console
from rich.table import Table

from agentroute.bench.replay import agent_order
from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.embed import Embedder, make_embedder
from agentroute.kg.examples import build_graphs, make_examples
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.routers.coldstart import route_with_cold_start
from agentroute.routers.gnn import GNNRouter
from agentroute.threads import set_torch_threads
from agentroute.types import AgentSpec, RunRecord


def without(records: Sequence[RunRecord], agent: str) -> list[RunRecord]:
    """The records as if ``agent`` had never run."""
    return [r.model_copy(update={"agents": {a: c for a, c in r.agents.items() if a != agent}}) for r in records]


def builder(agents: Sequence[AgentSpec], history: Sequence[RunRecord], embedder: Embedder) -> QueryGraphBuilder:
    return QueryGraphBuilder(NetworkXStore(), list(agents), embedder=embedder, history=list(history))


def top1(router: GNNRouter, b: QueryGraphBuilder, test: Sequence[RunRecord], cold_start: bool = False) -> list[str]:
    graphs = build_graphs(b, test)
    decisions = route_with_cold_start(router, graphs) if cold_start else router.route_many(graphs)
    return [d.selected[0] for d in decisions]


def accuracy(choices: Sequence[str], test: Sequence[RunRecord]) -> float:
    return float(np.mean([r.scores()[a] for a, r in zip(choices, test, strict=True)]))


def share(choices: Sequence[str], agent: str, rows: Sequence[int] | None = None) -> float:
    """How often ``agent`` was chosen (over ``rows`` if given)."""
    picked = [choices[i] for i in rows] if rows is not None else list(choices)
    return float(np.mean([c == agent for c in picked])) if picked else float("nan")


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--agent", default=None, help="leave out only this agent (default: each in turn)")
    p.add_argument("--options", default="{}", help="GNNRouter options as JSON")
    args = p.parse_args(argv)
    set_torch_threads(1)  # these small graphs train fastest on one thread (agentroute.threads)
    err = Console(stderr=True)
    loaded = load_folds(args.log)
    if loaded is None:
        return 0
    rows, fold_of = loaded
    train, test = split(rows, fold_of, 0)
    names = agent_order(rows)
    agents = [AgentSpec(name=a) for a in names]
    embedder = make_embedder(args.embedder)
    options = {"device": args.device, "top1": True, **json.loads(args.options)}

    err.print("training the reference GNN on all agents ...", highlight=False)
    full = builder(agents, train, embedder)
    reference = GNNRouter(seed=0, **options).fit(make_examples(full, train))
    ref_acc = accuracy(top1(reference, full, test), test)

    table = Table(title=f"New agent added at test time (MoRE fold 1, {len(test)} test questions, {args.embedder})")
    for col in (
        "new agent",
        "uniquely best on",
        "chosen when best (profiled)",
        "chosen overall (profiled)",
        "chosen when best (spec only)",
        "chosen overall (spec only)",
        "acc 3 agents",
        "acc + new (profiled)",
        "acc + new (spec only)",
        "chosen overall (spec only, cold start)",
        "acc + new (spec only, cold start)",
        "acc trained with it",
    ):
        table.add_column(col, justify="right")
    for new in [args.agent] if args.agent else names:
        if new not in names:
            raise SystemExit(f"unknown agent {new!r}: expected one of {', '.join(names)}")
        err.print(f"leaving out {new} ...", highlight=False)
        pool = [a for a in agents if a.name != new]
        train_wo, test_wo = without(train, new), without(test, new)
        b3 = builder(pool, train_wo, embedder)
        router = GNNRouter(seed=0, **options).fit(make_examples(b3, train_wo))
        acc3 = accuracy(top1(router, b3, test_wo), test_wo)
        profiled = top1(router, builder(agents, train, embedder), test)
        spec_only = top1(router, builder(agents, train_wo, embedder), test)
        cold = top1(router, builder(agents, train_wo, embedder), test, cold_start=True)
        best = [i for i, r in enumerate(test) if all(r.scores()[new] > s for a, s in r.scores().items() if a != new)]
        table.add_row(
            new,
            str(len(best)),
            f"{share(profiled, new, best):.1%}",
            f"{share(profiled, new):.1%}",
            f"{share(spec_only, new, best):.1%}",
            f"{share(spec_only, new):.1%}",
            f"{acc3:.3f}",
            f"{accuracy(profiled, test):.3f}",
            f"{accuracy(spec_only, test):.3f}",
            f"{share(cold, new):.1%}",
            f"{accuracy(cold, test):.3f}",
            f"{ref_acc:.3f}",
        )
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
