"""Baseline routers reported beside the GNN: random, best-single, all, knn, oracle (``mlp`` is in ``mlp.py``).

They bracket what a learned router should achieve: ``random`` and ``all`` need no training,
``best-single`` is the strongest fixed choice, ``knn``/``mlp`` are the simplest learned routers over the
same graph, and ``oracle`` (evaluation only) is the ceiling. Every router returns probabilities over the
graph's candidate agents (``graph.agent_names``) and selects a subset of them; at route time only the graph
is used (the ``oracle`` is the single, documented exception).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from agentroute.routers.base import BaseRouter, normalise, select_top_k
from agentroute.types import QueryGraph, RoutingDecision, TrainExample


def _softmax(values: Mapping[str, float], temperature: float) -> dict[str, float]:
    if not values:
        return {}
    t = max(temperature, 1e-6)
    top = max(values.values())
    exps = {a: math.exp((v - top) / t) for a, v in values.items()}
    return normalise(exps)


def decide(name: str, estimates: Mapping[str, float], k: int, temperature: float) -> RoutingDecision:
    """Softmax the per-agent estimates and keep the top ``k`` (ties by name)."""
    probs = _softmax(estimates, temperature)
    return RoutingDecision(router=name, probs=probs, selected=select_top_k(probs, k) if probs else [])


def mean_by_agent(examples: Sequence[TrainExample], costs: bool = False) -> dict[str, float]:
    """Mean recorded score (or cost) per agent over the examples where it has one."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for ex in examples:
        for agent, v in (ex.costs if costs else ex.scores).items():
            sums[agent] = sums.get(agent, 0.0) + float(v)
            counts[agent] = counts.get(agent, 0) + 1
    return {a: sums[a] / counts[a] for a in sums}


class RandomRouter(BaseRouter):
    """One candidate uniformly at random; the draw depends only on (seed, query id), so it is reproducible
    and independent of the order queries are routed in."""

    name = "random"
    nonblocking = True

    def __init__(self, seed: int = 0, k: int = 1) -> None:
        self.seed = seed
        self.k = k

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        names = graph.agent_names
        if not names:
            return RoutingDecision(router=self.name, probs={}, selected=[])
        rng = np.random.default_rng([self.seed, zlib.crc32(graph.query.id.encode())])
        n = min(max(1, k or self.k), len(names))
        picked = rng.choice(len(names), size=n, replace=False)
        return RoutingDecision(
            router=self.name,
            probs={a: 1.0 / len(names) for a in names},
            selected=[names[i] for i in picked],
        )


class BestSingleRouter(BaseRouter):
    """Always the agent with the best mean training score (the usual 'just pick the best model' baseline).

    Probabilities are a sharp softmax over the training means, so the best candidate gets the most mass;
    agents never seen in training get ``unseen_score`` (low), i.e. a small prior.
    """

    name = "best-single"
    learns_from_history = True
    nonblocking = True

    def __init__(self, seed: int = 0, k: int = 1, temperature: float = 0.05, unseen_score: float = 0.0) -> None:
        self.k = k
        self.temperature = temperature
        self.unseen_score = unseen_score
        self.means: dict[str, float] = {}

    def fit(self, examples: Sequence[TrainExample]) -> BestSingleRouter:
        self.means = mean_by_agent(examples)
        return self

    def trained_agents(self) -> frozenset[str]:
        return frozenset(self.means)

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        est = {a: self.means.get(a, self.unseen_score) for a in graph.agent_names}
        return decide(self.name, est, k or self.k, self.temperature)


class AllRouter(BaseRouter):
    """Every candidate with uniform probabilities; under a weighted vote this is a plain majority vote."""

    name = "all"
    nonblocking = True

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        names = graph.agent_names
        probs = {a: 1.0 / len(names) for a in names} if names else {}
        selected = list(names) if k is None else select_top_k(probs, k)
        return RoutingDecision(router=self.name, probs=probs, selected=selected)


class KnnRouter(BaseRouter):
    """Similarity-weighted mean score per agent over the graph's similar past queries (PERFORMED edges).

    The estimate is shrunk towards the agent's training mean with weight ``prior_weight`` (so agents few
    neighbours have scored fall back to the prior, and a graph with no neighbours routes like best-single);
    probabilities are a softmax of the estimates with ``temperature``.
    """

    name = "knn"
    learns_from_history = True
    nonblocking = True

    def __init__(
        self,
        seed: int = 0,
        k: int = 1,
        neighbours: int | None = None,
        temperature: float = 0.1,
        prior_weight: float = 1.0,
        power: float = 1.0,
    ) -> None:
        self.k = k
        self.neighbours = neighbours
        self.temperature = temperature
        self.prior_weight = prior_weight
        self.power = power
        self.prior: dict[str, float] = {}
        self.global_prior = 0.0

    def fit(self, examples: Sequence[TrainExample]) -> KnnRouter:
        self.prior = mean_by_agent(examples)
        self.global_prior = float(np.mean(list(self.prior.values()))) if self.prior else 0.0
        return self

    def trained_agents(self) -> frozenset[str]:
        return frozenset(self.prior)

    def estimates(self, graph: QueryGraph) -> dict[str, float]:
        past = sorted(graph.similar, key=lambda p: -p.similarity)
        if self.neighbours is not None:
            past = past[: self.neighbours]
        out: dict[str, float] = {}
        for agent in graph.agent_names:
            prior = self.prior.get(agent, self.global_prior)
            num, den = self.prior_weight * prior, self.prior_weight
            for p in past:
                score = p.scores.get(agent)
                if score is not None:
                    w = max(p.similarity, 0.0) ** self.power
                    num += w * score
                    den += w
            out[agent] = num / den if den > 0 else prior
        return out

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return decide(self.name, self.estimates(graph), k or self.k, self.temperature)


class OracleRouter(BaseRouter):
    """EVALUATION ONLY: routes with the recorded answers' scores, ``scores[query id][agent]``.

    It reads the outcomes a real router can never see, so it is the ceiling every router is compared to,
    never a deployable router. Queries without scores fall back to uniform probabilities. Among agents
    that score alike it takes the cheapest by the recorded ``costs[query id][agent]`` when given.
    """

    name = "oracle"
    nonblocking = True

    def __init__(
        self,
        scores: Mapping[str, Mapping[str, float]] | None = None,
        seed: int = 0,
        k: int = 1,
        costs: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self.scores = scores or {}
        self.costs = costs or {}
        self.k = k

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        known = self.scores.get(graph.query.id, {})
        est = {a: float(known.get(a, 0.0)) for a in graph.agent_names}
        cost = self.costs.get(graph.query.id, {})
        ranked = sorted(est, key=lambda a: (-est[a], cost.get(a, 0.0), a))
        n = max(1, k or self.k)
        probs = normalise({a: est[a] + 1e-6 for a in graph.agent_names})
        return RoutingDecision(router=self.name, probs=probs, selected=ranked[:n])
