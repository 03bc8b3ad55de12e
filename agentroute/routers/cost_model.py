"""What each agent would cost on *this* question, predicted from its text.

Why: recorded costs vary from question to question as much as between agents (tokens in and out: on
RouterArena the per-question cost's standard deviation is ~70% of its mean, and long questions cost more with
every agent), so a budget paced with each agent's mean cost is missed on a batch by as much as the batch's
questions differ from the average one. One ridge regression per agent on the question's embedding and its
length (in thousands of characters, for the tokens in, and its log) predicts the cost (correlation 0.7–0.9
with the recorded cost on RouterArena's held-out folds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentroute.types import QueryGraph, TrainExample


def cost_features(graphs: Sequence[QueryGraph]) -> np.ndarray:
    """(len(graphs), dim + 2): the question's embedding, its length in thousands of characters and the log."""
    return np.array(
        [np.r_[g.query_vec, len(g.query.text) / 1000, math.log1p(len(g.query.text))] for g in graphs],
        dtype=np.float64,
    )


@dataclass
class CostModel:
    """Per agent: ``cost ≈ x · coef + intercept``, floored at the agent's cheapest recorded call."""

    agents: list[str]
    coef: np.ndarray  # (len(agents), n_features)
    intercept: np.ndarray  # (len(agents),)
    floor: np.ndarray  # (len(agents),)

    @classmethod
    def fit(cls, examples: Sequence[TrainExample], alpha: float = 1.0) -> CostModel | None:
        """A model for every agent with recorded costs on at least two examples; None when none has."""
        agents = sorted({a for ex in examples for a in ex.costs})
        if not agents:
            return None
        x_all = cost_features([ex.graph for ex in examples])
        coefs, intercepts, floors, kept = [], [], [], []
        for agent in agents:
            rows = [i for i, ex in enumerate(examples) if agent in ex.costs]
            if len(rows) < 2:
                continue
            y = np.array([float(examples[i].costs[agent]) for i in rows])
            coef, intercept = _ridge(x_all[rows], y, alpha, unpenalised=2)
            coefs.append(coef)
            intercepts.append(intercept)
            floors.append(float(y.min()))
            kept.append(agent)
        if not kept:
            return None
        return cls(kept, np.array(coefs), np.array(intercepts), np.array(floors))

    def predict(self, graphs: Sequence[QueryGraph]) -> list[dict[str, float]]:
        """Each question's predicted cost (USD) per agent the model knows."""
        if not graphs:
            return []
        values = cost_features(graphs) @ self.coef.T + self.intercept
        values = np.maximum(values, self.floor)
        return [dict(zip(self.agents, row.tolist(), strict=True)) for row in values]

    def to_dict(self) -> dict[str, Any]:
        """Plain values (checkpoints store them beside the guard's state)."""
        return {
            "agents": list(self.agents),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "floor": self.floor.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CostModel:
        return cls(
            [str(a) for a in data["agents"]],
            np.asarray(data["coef"], dtype=np.float64),
            np.asarray(data["intercept"], dtype=np.float64),
            np.asarray(data["floor"], dtype=np.float64),
        )


def _ridge(x: np.ndarray, y: np.ndarray, alpha: float, unpenalised: int = 0) -> tuple[np.ndarray, float]:
    """Ridge regression (centred normal equations); the intercept and the last ``unpenalised`` columns (the
    lengths: tokens in are what a call is priced by) are not shrunk."""
    x_mean, y_mean = x.mean(axis=0), float(y.mean())
    xc = x - x_mean
    penalty = np.full(x.shape[1], alpha)
    if unpenalised:
        penalty[-unpenalised:] = 1e-9 * len(y)  # a trace, so two equal lengths never make it singular
    coef = np.linalg.solve(xc.T @ xc + np.diag(penalty), xc.T @ (y - y_mean))
    return coef, y_mean - float(x_mean @ coef)
