"""Agent evidence: per-agent numbers that do not depend on who the agent is.

Why: an agent the router has never trained on still has a spec and (once profiled) a history. These
features summarise that history (how the agent scored on the query's similar past questions) and the
spec's match with the query, in a form that means the same for every agent, so a new agent can be
scored without retraining. They feed the scorer directly beside the message-passing embeddings.
"""

from __future__ import annotations

import numpy as np

from agentroute.types import QueryGraph

#: Names of the evidence columns, in order (saved in checkpoints to catch layout changes).
EVIDENCE_FEATURES: tuple[str, ...] = (
    "mean_score",  # similarity-weighted mean score of the agent on similar past questions
    "mean_minus_avg",  # ... minus the average over agents (relative strength)
    "mean_minus_best",  # ... minus the best agent's (0 for the leader)
    "sharp_minus_best",  # the same with weights concentrated on the nearest past questions
    "win_share",  # weighted share of discriminative past questions where the agent was (one of) the best
    "coverage",  # weighted share of past questions that have a score for the agent
    "nearest_advantage",  # nearest scored past question: agent's score minus that question's mean
    "rel_cost",  # weighted mean cost relative to the costliest agent on each past question
    "spec_match",  # cosine between the query and the agent's spec embedding
    "entity_cover",  # share of the query's mentioned entities the agent covers
)
N_EVIDENCE = len(EVIDENCE_FEATURES)


def past_matrices(graph: QueryGraph, n_agents: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Similarities (P,), scores (P, A), costs relative to each row's max (P, A), score mask (P, A)."""
    index = {name: i for i, name in enumerate(graph.agent_names)}
    p = len(graph.similar)
    sims = np.zeros(p, dtype=np.float32)
    scores = np.zeros((p, n_agents), dtype=np.float32)
    costs = np.zeros((p, n_agents), dtype=np.float32)
    mask = np.zeros((p, n_agents), dtype=bool)
    for j, past in enumerate(graph.similar):
        sims[j] = past.similarity
        for name, score in past.scores.items():
            a = index.get(name)
            if a is not None and score is not None:
                scores[j, a] = score
                mask[j, a] = True
        for name, cost in past.costs.items():
            a = index.get(name)
            if a is not None and cost is not None:
                costs[j, a] = cost
    top = costs.max(axis=1, keepdims=True) if p else np.zeros((0, 1), np.float32)
    np.divide(costs, top, out=costs, where=top > 0)
    return sims, scores, costs, mask


def _weighted_mean(
    values: np.ndarray, weights: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-agent weighted mean over rows where ``mask``; also returns the weight mass used."""
    w = weights[:, None] * mask
    mass = w.sum(axis=0)
    mean = np.divide((w * values).sum(axis=0), mass, out=np.zeros_like(mass), where=mass > 0)
    return mean, mass


def _relative(mean: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``mean`` minus the average and minus the best over agents that have evidence (0 elsewhere)."""
    if not seen.any():
        zero = np.zeros_like(mean)
        return zero, zero
    avg = mean[seen].mean()
    best = mean[seen].max()
    return np.where(seen, mean - avg, 0.0), np.where(seen, mean - best, 0.0)


def agent_evidence(
    graph: QueryGraph,
    sims: np.ndarray,
    scores: np.ndarray,
    costs: np.ndarray,
    mask: np.ndarray,
) -> np.ndarray:
    """(A, N_EVIDENCE) float32 evidence matrix for the graph's agents (see ``EVIDENCE_FEATURES``)."""
    n_agents = len(graph.agents)
    out = np.zeros((n_agents, N_EVIDENCE), dtype=np.float32)
    if n_agents == 0:
        return out
    if len(sims):
        weights = np.clip(sims, 0.0, None) + 1e-3
        sharp = np.exp((sims - sims.max()) / 0.05)
        mean, mass = _weighted_mean(scores, weights, mask)
        seen = mass > 0
        out[:, 0] = mean
        out[:, 1], out[:, 2] = _relative(mean, seen)
        sharp_mean, sharp_mass = _weighted_mean(scores, sharp, mask)
        out[:, 3] = _relative(sharp_mean, sharp_mass > 0)[1]
        masked = np.where(mask, scores, -np.inf)
        row_best = masked.max(axis=1, keepdims=True)
        row_worst = np.where(mask, scores, np.inf).min(axis=1, keepdims=True)
        discriminative = (row_best > row_worst)[:, 0]
        wins = (masked >= row_best) & mask & discriminative[:, None]
        win_mass = (weights * discriminative).sum()
        if win_mass > 0:
            out[:, 4] = (weights[:, None] * wins).sum(axis=0) / win_mass
        out[:, 5] = mass / weights.sum()
        row_n = mask.sum(axis=1)
        row_mean = np.divide(
            (scores * mask).sum(axis=1), row_n, out=np.zeros(len(sims), np.float32), where=row_n > 0
        )
        for a in range(n_agents):
            rows = np.flatnonzero(mask[:, a])
            if len(rows):
                j = rows[np.argmax(sims[rows])]
                out[a, 6] = scores[j, a] - row_mean[j]
        out[:, 7] = _weighted_mean(costs, weights, mask)[0]
    if graph.agent_vecs.size and graph.query_vec.size:
        out[:, 8] = graph.agent_vecs @ graph.query_vec
    if graph.n_mentioned and graph.covers:
        covered = np.zeros(n_agents, dtype=np.float32)
        for a, e in graph.covers:
            if e < graph.n_mentioned:
                covered[a] += 1.0
        out[:, 9] = covered / graph.n_mentioned
    return out
