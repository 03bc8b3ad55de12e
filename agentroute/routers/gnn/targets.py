"""Training targets: the distribution over a question's agents the GNN learns to reproduce.

p* = softmax(utility / tau) over the agents with a recorded score, utility = score - lambda * relative
cost (cost divided by the question's costliest agent, so lambda does not depend on the currency), then
label-smoothed (1 - eps) p* + eps / K. When every agent scored 0 there is nothing to prefer on quality,
so p* is uniform (or, with lambda > 0, leans to the cheaper agents).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def target_distribution(
    agent_names: Sequence[str],
    scores: Mapping[str, float | None],
    costs: Mapping[str, float | None] | None = None,
    tau: float = 0.25,
    smoothing: float = 1e-3,
    lambda_cost: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(target probabilities, mask of agents with a score), both aligned with ``agent_names``.

    Agents without a recorded score get probability 0 and mask False (the loss ignores them).
    """
    if tau <= 0:
        raise ValueError(f"tau must be > 0 (got {tau})")
    n = len(agent_names)
    mask = np.array([scores.get(a) is not None for a in agent_names], dtype=bool)
    probs = np.zeros(n, dtype=np.float32)
    k = int(mask.sum())
    if k == 0:
        return probs, mask
    s = np.array([float(scores.get(a) or 0.0) for a in agent_names], np.float64)
    c = np.array([float((costs or {}).get(a) or 0.0) for a in agent_names], np.float64)
    top_cost = c[mask].max()
    rel_cost = c / top_cost if top_cost > 0 else np.zeros(n)
    if np.all(s[mask] == 0) and lambda_cost == 0:
        utility = np.zeros(n)
    else:
        utility = (0.0 if np.all(s[mask] == 0) else s) - lambda_cost * rel_cost
    logits = np.where(mask, utility / tau, -np.inf)
    e = np.exp(logits - logits[mask].max())
    p = e / e.sum()
    p = (1.0 - smoothing) * p + smoothing / k
    probs[mask] = p[mask]
    return probs, mask
