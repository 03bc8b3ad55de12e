"""Cold start: route agents that have no history by their descriptions, and trust history as it grows.

Why: a router that learns from history knows nothing about an agent nobody has scored yet, so on a
user's first day (an empty store) or right after a new agent joins the pool it can only guess. What the
query graph does carry is how each agent did on the question's similar past questions; an agent scored
on ``min_history`` of them (or that the router was trained on) is trusted to the learned router, one
scored on none is routed by its
description and skills (``DescriptionRouter``), and in between the two are blended linearly:

    p(a) ∝ w_a · p_router(a) + (1 − w_a) · p_description(a),    w_a = min(1, n_a / min_history)

A graph where every agent is fully covered gets the learned router's decision unchanged, so this costs
nothing once the pool has history. The GNN's unseen-agent path is the same idea inside the model (agents
are featurised from their spec); this wrapper makes every history-based router agree on it. Routers say
whether they learn from history with the class attribute ``learns_from_history`` (declared, not guessed).
"""

from __future__ import annotations

from collections.abc import Sequence

from agentroute.routers.base import Router, normalise, select_top_k
from agentroute.routers.description import DescriptionRouter
from agentroute.types import QueryGraph, RoutingDecision

MIN_HISTORY = 3


def learns_from_history(router: Router) -> bool:
    """Whether a router's estimates come from recorded history (declared by the router class)."""
    return bool(getattr(router, "learns_from_history", False))


def trained_agents(router: Router) -> frozenset[str]:
    """The agents a router has learned scores for (``trained_agents()``, declared by learned routers)."""
    method = getattr(router, "trained_agents", None)
    return frozenset(method()) if callable(method) else frozenset()


def history_weights(
    graph: QueryGraph, min_history: int = MIN_HISTORY, trained: frozenset[str] = frozenset()
) -> dict[str, float]:
    """Per candidate agent, how far its history can be trusted (0 = none, 1 = full): fully for agents the
    router was trained on, else by how many of the question's similar past questions scored it."""
    counts = {a: min_history if a in trained else 0 for a in graph.agent_names}
    for past in graph.similar:
        for agent in past.scores:
            if agent in counts:
                counts[agent] += 1
    need = max(1, min_history)
    return {a: min(1.0, n / need) for a, n in counts.items()}


def route_with_cold_start(
    router: Router,
    graphs: Sequence[QueryGraph],
    k: int | None = None,
    *,
    min_history: int = MIN_HISTORY,
    description: DescriptionRouter | None = None,
) -> list[RoutingDecision]:
    """``router.route_many(graphs, k)``, with agents lacking history routed by their descriptions.

    A router that does not learn from history is called as is. The learned router is not called at all
    for a graph where no agent has history (so an untrained router works on an empty store).
    """
    if not learns_from_history(router):
        return router.route_many(graphs, k)
    desc = description or DescriptionRouter()
    trained = trained_agents(router)
    weights = [history_weights(g, min_history, trained) for g in graphs]
    needs_router = [i for i, w in enumerate(weights) if any(v > 0 for v in w.values())]
    learned: dict[int, RoutingDecision] = {}
    if needs_router:  # an untrained router may refuse even an empty batch
        learned = dict(zip(needs_router, router.route_many([graphs[i] for i in needs_router], k), strict=True))
    decisions: list[RoutingDecision] = []
    for i, graph in enumerate(graphs):
        w = weights[i]
        inner = learned.get(i)
        if inner is not None and all(v >= 1.0 for v in w.values()):
            decisions.append(inner)
            continue
        decisions.append(_blend(router, graph, w, inner, desc.probs(graph), k))
    return decisions


def _blend(
    router: Router,
    graph: QueryGraph,
    weights: dict[str, float],
    inner: RoutingDecision | None,
    by_description: dict[str, float],
    k: int | None,
) -> RoutingDecision:
    learned = inner.probs if inner is not None else {}
    probs = normalise({a: w * learned.get(a, 0.0) + (1.0 - w) * by_description.get(a, 0.0) for a, w in weights.items()})
    select = getattr(router, "select", None)
    if callable(select):
        selected = list(select(probs, k))
    else:
        selected = select_top_k(probs, k or int(getattr(router, "k", None) or 1))
    unscored = sorted(a for a, v in weights.items() if v < 1.0)
    why = "no history yet for any agent" if inner is None else "little or no history for " + ", ".join(unscored)
    top = ", ".join(f"{a} {probs[a]:.2f}" for a in sorted(probs, key=lambda a: (-probs[a], a))[:3])
    return RoutingDecision(
        router=router.name,
        probs=probs,
        selected=selected,
        rationale=f"cold start: {why}; routed by description and skills: {top}",
        early_stop=bool(inner is not None and inner.early_stop and len(selected) > 1),
        cold_start=unscored,
    )
