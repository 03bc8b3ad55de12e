"""Baseline routers reported beside the GNN: random, best-single, all, knn, mlp, oracle.

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
import torch
from torch import nn

from agentroute.routers.base import BaseRouter, normalise, register_router, select_top_k
from agentroute.types import QueryGraph, RoutingDecision, TrainExample


def _softmax(values: Mapping[str, float], temperature: float) -> dict[str, float]:
    if not values:
        return {}
    t = max(temperature, 1e-6)
    top = max(values.values())
    exps = {a: math.exp((v - top) / t) for a, v in values.items()}
    return normalise(exps)


def _decide(name: str, estimates: Mapping[str, float], k: int, temperature: float) -> RoutingDecision:
    """Softmax the per-agent estimates and keep the top ``k`` (ties by name)."""
    probs = _softmax(estimates, temperature)
    return RoutingDecision(router=name, probs=probs, selected=select_top_k(probs, k) if probs else [])


def _mean_scores(examples: Sequence[TrainExample]) -> dict[str, float]:
    """Mean recorded score per agent over the examples where it has one."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for ex in examples:
        for agent, score in ex.scores.items():
            sums[agent] = sums.get(agent, 0.0) + float(score)
            counts[agent] = counts.get(agent, 0) + 1
    return {a: sums[a] / counts[a] for a in sums}


@register_router("random")
class RandomRouter(BaseRouter):
    """One candidate uniformly at random; the draw depends only on (seed, query id), so it is reproducible
    and independent of the order queries are routed in."""

    name = "random"

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


@register_router("best-single")
class BestSingleRouter(BaseRouter):
    """Always the agent with the best mean training score (the usual 'just pick the best model' baseline).

    Probabilities are a sharp softmax over the training means, so the best candidate gets the most mass;
    agents never seen in training get ``unseen_score`` (low), i.e. a small prior.
    """

    name = "best-single"

    def __init__(
        self, seed: int = 0, k: int = 1, temperature: float = 0.05, unseen_score: float = 0.0
    ) -> None:
        self.k = k
        self.temperature = temperature
        self.unseen_score = unseen_score
        self.means: dict[str, float] = {}

    def fit(self, examples: Sequence[TrainExample]) -> BestSingleRouter:
        self.means = _mean_scores(examples)
        return self

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        est = {a: self.means.get(a, self.unseen_score) for a in graph.agent_names}
        return _decide(self.name, est, k or self.k, self.temperature)


@register_router("all")
class AllRouter(BaseRouter):
    """Every candidate with uniform probabilities; under a weighted vote this is a plain majority vote."""

    name = "all"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        names = graph.agent_names
        probs = {a: 1.0 / len(names) for a in names} if names else {}
        selected = list(names) if k is None else select_top_k(probs, k)
        return RoutingDecision(router=self.name, probs=probs, selected=selected)


@register_router("knn")
class KnnRouter(BaseRouter):
    """Similarity-weighted mean score per agent over the graph's similar past queries (PERFORMED edges).

    The estimate is shrunk towards the agent's training mean with weight ``prior_weight`` (so agents few
    neighbours have scored fall back to the prior, and a graph with no neighbours routes like best-single);
    probabilities are a softmax of the estimates with ``temperature``.
    """

    name = "knn"

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
        self.prior = _mean_scores(examples)
        self.global_prior = float(np.mean(list(self.prior.values()))) if self.prior else 0.0
        return self

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
        return _decide(self.name, self.estimates(graph), k or self.k, self.temperature)


@register_router("mlp")
class MlpRouter(BaseRouter):
    """A small MLP from the query embedding to every training agent's score (sigmoid outputs, BCE loss
    masked to the scores that exist). Trained on CPU, seeded, with early stopping on a held-out slice.
    Agents unseen in training get the mean training score."""

    name = "mlp"

    def __init__(
        self,
        seed: int = 0,
        k: int = 1,
        hidden: int = 64,
        epochs: int = 60,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        dropout: float = 0.3,
        batch_size: int = 128,
        val_fraction: float = 0.1,
        patience: int = 5,
        temperature: float = 0.1,
    ) -> None:
        self.seed = seed
        self.k = k
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.patience = patience
        self.temperature = temperature
        self.agents: list[str] = []
        self.prior = 0.0
        self.model: nn.Module | None = None

    def fit(self, examples: Sequence[TrainExample]) -> MlpRouter:
        self.agents = sorted({a for ex in examples for a in ex.scores})
        if not examples or not self.agents:
            return self
        col = {a: j for j, a in enumerate(self.agents)}
        x = np.stack([np.asarray(ex.graph.query_vec, dtype=np.float32) for ex in examples])
        y = np.zeros((len(examples), len(self.agents)), dtype=np.float32)
        mask = np.zeros_like(y)
        for i, ex in enumerate(examples):
            for a, s in ex.scores.items():
                y[i, col[a]] = s
                mask[i, col[a]] = 1.0
        self.prior = float(y[mask > 0].mean())
        threads = torch.get_num_threads()
        try:
            # a model this small trains fastest on one thread (several threads mostly wait on each other,
            # and on a busy machine much longer); the global setting is restored afterwards
            torch.set_num_threads(1)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                self.model = self._train(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(mask))
        finally:
            torch.set_num_threads(threads)
        return self

    def _train(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> nn.Module:
        model = nn.Sequential(
            nn.Linear(x.shape[1], self.hidden),
            nn.ReLU(),
            nn.Dropout(self.dropout),
            nn.Linear(self.hidden, y.shape[1]),
        )
        with (
            torch.no_grad()
        ):  # start from each agent's training mean, so training only has to learn deviations
            rate = ((y * mask).sum(0) / mask.sum(0).clamp(min=1.0)).clamp(0.02, 0.98)
            model[-1].bias.copy_(torch.log(rate / (1 - rate)))
            model[-1].weight.mul_(0.1)
        order = torch.randperm(len(x))
        n_val = int(len(x) * self.val_fraction) if len(x) >= 20 else 0
        val, tr = order[:n_val], order[n_val:]
        opt = torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loss_fn = nn.BCEWithLogitsLoss(reduction="none")

        def loss_on(idx: torch.Tensor) -> torch.Tensor:
            m = mask[idx]
            return (loss_fn(model(x[idx]), y[idx]) * m).sum() / m.sum().clamp(min=1.0)

        best, best_state, stale = math.inf, None, 0
        for _ in range(self.epochs):
            model.train()
            for batch in tr[torch.randperm(len(tr))].split(self.batch_size):
                opt.zero_grad()
                loss_on(batch).backward()
                opt.step()
            if n_val == 0:
                continue
            model.eval()
            with torch.no_grad():
                v = float(loss_on(val))
            if v < best - 1e-5:
                best, stale = v, 0
                best_state = {k: t.clone() for k, t in model.state_dict().items()}
            else:
                stale += 1
                if stale >= self.patience:
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
        return model.eval()

    def predict(self, graphs: Sequence[QueryGraph]) -> list[dict[str, float]]:
        """Predicted score per candidate agent for each graph."""
        if self.model is None or not graphs:
            return [{a: self.prior for a in g.agent_names} for g in graphs]
        x = torch.from_numpy(np.stack([np.asarray(g.query_vec, dtype=np.float32) for g in graphs]))
        with torch.no_grad():
            out = torch.sigmoid(self.model(x)).numpy()
        col = {a: j for j, a in enumerate(self.agents)}
        return [
            {a: float(out[i, col[a]]) if a in col else self.prior for a in g.agent_names}
            for i, g in enumerate(graphs)
        ]

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return self.route_many([graph], k)[0]

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]:
        return [_decide(self.name, est, k or self.k, self.temperature) for est in self.predict(graphs)]


@register_router("oracle")
class OracleRouter(BaseRouter):
    """EVALUATION ONLY: routes with the recorded answers' scores, ``scores[query id][agent]``.

    It reads the outcomes a real router can never see, so it is the ceiling every router is compared to,
    never a deployable router. Queries without scores fall back to uniform probabilities.
    """

    name = "oracle"

    def __init__(
        self, scores: Mapping[str, Mapping[str, float]] | None = None, seed: int = 0, k: int = 1
    ) -> None:
        self.scores = scores or {}
        self.k = k

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        known = self.scores.get(graph.query.id, {})
        est = {a: float(known.get(a, 0.0)) for a in graph.agent_names}
        ranked = sorted(est, key=lambda a: (-est[a], a))
        n = max(1, k or self.k)
        probs = normalise({a: est[a] + 1e-6 for a in graph.agent_names})
        return RoutingDecision(router=self.name, probs=probs, selected=ranked[:n])
