"""Agent evidence: per-agent numbers that do not depend on who the agent is.

Why: an agent the router has never trained on still has a spec and (once profiled) a history. These
features summarise that history (how the agent scored on the query's similar past questions) and the
spec's match with the query, in a form that means the same for every agent, so a new agent can be
scored without retraining. They feed the scorer directly beside the message-passing embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class PastTable:
    """The PERFORMED edges of a graph as dense (past question x agent) arrays."""

    sims: np.ndarray  # (P,) similarity of each past question to the query
    scores: np.ndarray  # (P, A) recorded score (0 where missing)
    costs: np.ndarray  # (P, A) cost divided by the costliest agent on that past question
    mask: np.ndarray  # (P, A) bool: the agent has a score on that past question
    row_mean: np.ndarray  # (P,) mean score over the agents scored on that past question


def past_table(graph: QueryGraph) -> PastTable:
    index = {name: i for i, name in enumerate(graph.agent_names)}
    p, n_agents = len(graph.similar), len(graph.agents)
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
    if p and n_agents:
        top = costs.max(axis=1, keepdims=True)
        np.divide(costs, top, out=costs, where=top > 0)
    row_n = mask.sum(axis=1)
    row_mean = np.zeros(p, dtype=np.float32)
    np.divide(scores.sum(axis=1), row_n, out=row_mean, where=row_n > 0)
    return PastTable(sims, scores, costs, mask, row_mean)


def _weighted_mean(values: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-agent weighted mean over rows where ``mask``; also returns the weight mass used."""
    w = weights[:, None] * mask
    mass = w.sum(axis=0)
    mean = np.zeros_like(mass)
    np.divide((w * values).sum(axis=0), mass, out=mean, where=mass > 0)
    return mean, mass


def _relative(mean: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``mean`` minus the average and minus the best over agents that have evidence (0 elsewhere)."""
    if not seen.any():
        zero = np.zeros_like(mean)
        return zero, zero
    kept = mean[seen]
    return np.where(seen, mean - kept.mean(), 0.0), np.where(seen, mean - kept.max(), 0.0)


def agent_evidence(graph: QueryGraph, table: PastTable) -> np.ndarray:
    """(A, N_EVIDENCE) float32 evidence matrix for the graph's agents (see ``EVIDENCE_FEATURES``)."""
    n_agents = len(graph.agents)
    out = np.zeros((n_agents, N_EVIDENCE), dtype=np.float32)
    if n_agents == 0:
        return out
    sims, scores, mask = table.sims, table.scores, table.mask
    if len(sims):
        weights = np.clip(sims, 0.0, None) + 1e-3
        mean, mass = _weighted_mean(scores, weights, mask)
        seen = mass > 0
        out[:, 0] = mean
        out[:, 1], out[:, 2] = _relative(mean, seen)
        sharp = np.exp((sims - sims.max()) / 0.05)
        sharp_mean, sharp_mass = _weighted_mean(scores, sharp, mask)
        out[:, 3] = _relative(sharp_mean, sharp_mass > 0)[1]
        best = np.where(mask, scores, -np.inf).max(axis=1)
        worst = np.where(mask, scores, np.inf).min(axis=1)
        discriminative = best > worst
        win_mass = weights[discriminative].sum()
        if win_mass > 0:
            wins = (scores >= best[:, None]) & mask & discriminative[:, None]
            out[:, 4] = (weights[:, None] * wins).sum(axis=0) / win_mass
        out[:, 5] = mass / weights.sum()
        nearest = np.where(mask, sims[:, None], -np.inf).argmax(axis=0)
        cols = np.arange(n_agents)
        out[:, 6] = np.where(seen, scores[nearest, cols] - table.row_mean[nearest], 0.0)
        out[:, 7] = _weighted_mean(table.costs, weights, mask)[0]
    if graph.agent_vecs.size and graph.query_vec.size:
        out[:, 8] = graph.agent_vecs @ graph.query_vec
    if graph.n_mentioned and graph.covers:
        covered = np.zeros(n_agents, dtype=np.float32)
        for a, e in graph.covers:
            if e < graph.n_mentioned:
                covered[a] += 1.0
        out[:, 9] = covered / graph.n_mentioned
    return out
