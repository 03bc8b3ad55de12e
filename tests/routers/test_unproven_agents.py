"""An agent the GNN was neither trained on nor has history for is held at the probability of the least
likely known agent (``GNNRouter.hold_unproven``): the GNN learned only from agents with history, and left
to itself it took such an agent for the best one."""

from __future__ import annotations

import numpy as np
import pytest
from test_gnn import FAST, ToyWorld

from agentroute.routers.gnn import GNNRouter
from agentroute.routers.gnn.unproven import hold_at_weakest, unproven_agents
from agentroute.types import PastQuery, QueryGraph, TrainExample


def _topic_world(n: int, start: int, newcomer: str | None = None) -> list[tuple[TrainExample, str]]:
    """Questions whose topic tells the best of agents 0-2 (their history is noise). ``newcomer``: agent 3
    joins every pool with a spec of its own topic and is never the best; "spec" gives it no history,
    "history" records it losing on every similar past question."""
    world = ToyWorld(seed=5)
    out = []
    for i in range(n):
        ex, best = world.example(start + i, "text", pool=[0, 1, 2])
        if newcomer:
            graph = ex.graph
            graph.agents = [*graph.agents, world.agents[3]]
            graph.agent_vecs = np.vstack([graph.agent_vecs, world.centroids[3:4]])
            if newcomer == "history":
                graph.similar = [
                    PastQuery(p.id, p.text, p.similarity, {**p.scores, "agent3": 0.0}) for p in graph.similar
                ]
            ex = TrainExample(graph=graph, scores={**ex.scores, "agent3": 0.0})
        out.append((ex, best))
    return out


def test_unproven_means_untrained_and_unscored_near_the_question() -> None:
    graph = _topic_world(1, 70_000, newcomer="spec")[0][0].graph
    assert unproven_agents(graph, {"agent0", "agent1", "agent2"}) == ["agent3"]
    assert unproven_agents(graph, {"agent0", "agent1"}) == ["agent3"]  # agent2 has history on similar questions
    graph.similar = [PastQuery("p", "q", 0.5, {"agent3": 0.0})]
    assert unproven_agents(graph, set()) == ["agent0", "agent1", "agent2"]
    held = hold_at_weakest({"a": 0.5, "b": 0.1, "new": 0.4}, ["new"])  # new: b's 0.1, then renormalised
    assert held == pytest.approx({"a": 0.5 / 0.7, "b": 0.1 / 0.7, "new": 0.1 / 0.7})
    assert hold_at_weakest({"a": 0.7, "b": 0.3}, ["a", "b"]) == {"a": 0.7, "b": 0.3}  # nothing proven


def _share_and_accuracy(router: GNNRouter, test: list[tuple[TrainExample, str]]) -> tuple[float, float]:
    chosen = [router.route(ex.graph).selected[0] for ex, _ in test]
    share = float(np.mean([c == "agent3" for c in chosen]))
    return share, float(np.mean([c == best for c, (_, best) in zip(chosen, test, strict=True)]))


def test_an_agent_without_history_is_held_at_the_weakest_and_not_taken_for_the_best() -> None:
    train = [ex for ex, _ in _topic_world(400, 0)]
    router = GNNRouter(seed=0, top1=True, **FAST).fit(train)
    test = _topic_world(200, 50_000, newcomer="spec")

    router.hold_unproven = False
    raw_share, raw_accuracy = _share_and_accuracy(router, test)
    assert raw_share > 0.25  # precondition: this world shows the extrapolation the hold guards against

    router.hold_unproven = True
    share, accuracy = _share_and_accuracy(router, test)
    assert share == 0.0 and accuracy > raw_accuracy + 0.2
    decision = router.route(test[0][0].graph)
    probs = decision.probs
    assert abs(sum(probs.values()) - 1.0) < 1e-9
    assert probs["agent3"] == min(probs[a] for a in ("agent0", "agent1", "agent2"))
    assert decision.rationale.endswith("held at the weakest known agent's probability, no history yet: agent3")
    assert router.predict_proba([test[0][0].graph])[0] == probs


def _both_ways(router: GNNRouter, graph: QueryGraph) -> tuple[dict[str, float], dict[str, float]]:
    """The router's probabilities with the hold on, and off."""
    router.hold_unproven = True
    held = router.route(graph).probs
    router.hold_unproven = False
    return held, router.route(graph).probs


def test_history_lifts_the_hold_and_a_pool_with_no_proven_agent_is_left_alone() -> None:
    train = [ex for ex, _ in _topic_world(400, 0)]
    router = GNNRouter(seed=0, top1=True, **FAST).fit(train)
    scored = _topic_world(1, 60_000, newcomer="history")[0][0].graph
    held, free = _both_ways(router, scored)
    assert held == free  # scored on the similar past questions: judged by its history

    stranger = _topic_world(1, 60_001, newcomer="spec")[0][0].graph
    stranger.agents = [a.model_copy(update={"name": f"new-{a.name}"}) for a in stranger.agents]
    stranger.similar = []  # no agent the router knows, and no history: nothing to hold against
    held, free = _both_ways(router, stranger)
    assert held == free and len(held) == 4
