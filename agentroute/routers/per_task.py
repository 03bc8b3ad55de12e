"""``PerTaskRouter`` ("per-task"): the best agent for the question's task, the baseline routing papers
report as "best model per task".

Why a router of its own: most routing logs say which task (dataset) each question came from, and on such
logs sending every question to its task's best agent is a strong, cheap baseline that a learned router
must beat to earn its complexity (on MoRE it matches the GNN's single pick: 0.563 vs 0.559). The task of
a new question is not given at routing time, so it is recognised from the question's words and form by
the task prior (``task_prior.py``: a logistic regression over TF-IDF terms): an agent's estimate is
its expected score, the sum over tasks of P(task | question) x its mean training score on that task.
Without task labels (fewer than two tasks with enough questions) the estimates are the agents' training
means, so the router is ``best-single``; its decisions say which.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentroute.routers.base import BaseRouter
from agentroute.routers.baselines import decide, mean_by_agent
from agentroute.routers.task_prior import TaskPrior
from agentroute.types import QueryGraph, RoutingDecision, TrainExample


class PerTaskRouter(BaseRouter):
    """Each question's agents ranked by their expected score on its (recognised) task."""

    name = "per-task"
    learns_from_history = True
    nonblocking = True  # routing is a TF-IDF lookup and a small matrix product

    def __init__(self, seed: int = 0, k: int = 1, temperature: float = 0.05) -> None:
        self.k = k
        self.temperature = temperature
        self.prior: TaskPrior | None = None
        self.means: dict[str, float] = {}

    def fit(self, examples: Sequence[TrainExample]) -> PerTaskRouter:
        self.means = mean_by_agent(examples)
        self.prior = TaskPrior.fit(
            [ex.graph.query.text for ex in examples], [ex.task for ex in examples], [ex.scores for ex in examples]
        )
        return self

    def trained_agents(self) -> frozenset[str]:
        return frozenset(self.means)

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return self.route_many([graph], k)[0]

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]:
        """Per graph, the expected scores (the task prior's, else the training means) as both the ranking
        and the agents' reliabilities (the weighted vote reads them when ``k`` > 1)."""
        if self.prior is None:
            estimates = [{a: self.means.get(a, 0.0) for a in g.agent_names} for g in graphs]
            why = "no task labels in training: the best agent overall"
        else:
            rows = self.prior.expected([g.query.text for g in graphs], [g.agent_names for g in graphs])
            estimates = [dict(zip(g.agent_names, map(float, row), strict=True)) for g, row in zip(graphs, rows)]
            why = "expected score on the question's recognised task"
        decisions = []
        for est in estimates:
            d = decide(self.name, est, k or self.k, self.temperature)
            top = ", ".join(f"{a} {est[a]:.2f}" for a in sorted(est, key=lambda a: -est[a])[:3])
            decisions.append(d.model_copy(update={"reliability": est, "rationale": f"per-task ({why}): {top}"}))
        return decisions
