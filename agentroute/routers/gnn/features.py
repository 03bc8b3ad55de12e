"""Agent evidence: per-agent numbers that do not depend on who the agent is.

Why: an agent the router has never trained on still has a spec and (once profiled) a history. These
features summarise that history (how the agent scored on the query's similar past questions) and the
spec's match with the query, in a form that means the same for every agent, so a new agent can be
scored without retraining. They feed the scorer directly beside the message-passing embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    "task_score",  # the task prior's expected score (task_prior.py; 0 without one)
    "task_minus_best",  # ... minus the best of the graph's agents
)
N_EVIDENCE = len(EVIDENCE_FEATURES)


@dataclass
class PastTables:
    """The PERFORMED edges of G graphs as zero-padded (graph x past question x agent) arrays.

    Why batched: these features are a few dozen tiny NumPy operations per graph, so computing them for a
    whole batch at once is what keeps batched routing fast; one graph is a batch of one.
    """

    sims: np.ndarray  # (G, P) similarity of each past question to the query (0 where padded)
    scores: np.ndarray  # (G, P, A) recorded score (0 where missing)
    costs: np.ndarray  # (G, P, A) cost divided by the costliest agent on that past question
    mask: np.ndarray  # (G, P, A) bool: the agent has a score on that past question
    rows: np.ndarray  # (G, P) bool: a real past question (not padding)
    row_mean: np.ndarray  # (G, P) mean score over the agents scored on that past question


def past_tables(graphs: Sequence[QueryGraph]) -> PastTables:
    g = len(graphs)
    p = max((len(gr.similar) for gr in graphs), default=0)
    a = max((len(gr.agents) for gr in graphs), default=0)
    sims = np.zeros((g, p), dtype=np.float32)
    scores = np.zeros((g, p, a), dtype=np.float32)
    costs = np.zeros((g, p, a), dtype=np.float32)
    mask = np.zeros((g, p, a), dtype=bool)
    rows = np.zeros((g, p), dtype=bool)
    for i, graph in enumerate(graphs):
        index = {name: k for k, name in enumerate(graph.agent_names)}
        rows[i, : len(graph.similar)] = True
        for j, past in enumerate(graph.similar):
            sims[i, j] = past.similarity
            for name, score in past.scores.items():
                k = index.get(name)
                if k is not None and score is not None:
                    scores[i, j, k] = score
                    mask[i, j, k] = True
            for name, cost in past.costs.items():
                k = index.get(name)
                if k is not None and cost is not None:
                    costs[i, j, k] = cost
    top = costs.max(axis=2, keepdims=True, initial=0.0)
    np.divide(costs, top, out=costs, where=top > 0)
    row_n = mask.sum(axis=2)
    row_mean = np.zeros((g, p), dtype=np.float32)
    np.divide(scores.sum(axis=2), row_n, out=row_mean, where=row_n > 0)
    return PastTables(sims, scores, costs, mask, rows, row_mean)


def _weighted_mean(values: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(G, A) weighted mean over past questions where ``mask``; also the weight mass used."""
    w = weights[:, :, None] * mask
    mass = w.sum(axis=1)
    mean = np.zeros_like(mass)
    np.divide((w * values).sum(axis=1), mass, out=mean, where=mass > 0)
    return mean, mass


def _minus_best(mean: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """``mean`` minus the best over the graph's agents that have evidence (0 for agents without)."""
    best = np.where(seen, mean, -np.inf).max(axis=1, keepdims=True, initial=-np.inf)
    return np.where(seen, mean - best, 0.0)


def agent_evidence(
    graphs: Sequence[QueryGraph], tables: PastTables, task_scores: Sequence[np.ndarray] | None = None
) -> list[np.ndarray]:
    """One (A_g, N_EVIDENCE) float32 evidence matrix per graph (see ``EVIDENCE_FEATURES``); ``task_scores``
    holds the task prior's expected score of each graph's agents, when the router has a prior."""
    g, p, a = tables.scores.shape
    out = np.zeros((g, a, N_EVIDENCE), dtype=np.float32)
    if p and a:
        sims, scores, mask, rows = tables.sims, tables.scores, tables.mask, tables.rows
        weights = np.where(rows, np.clip(sims, 0.0, None) + 1e-3, 0.0)
        mean, mass = _weighted_mean(scores, weights, mask)
        seen = mass > 0
        n_seen = seen.sum(axis=1, keepdims=True)
        average = np.where(seen, mean, 0.0).sum(axis=1, keepdims=True) / np.maximum(n_seen, 1)
        out[:, :, 0] = mean
        out[:, :, 1] = np.where(seen, mean - average, 0.0)
        out[:, :, 2] = _minus_best(mean, seen)
        top_sim = np.where(rows, sims, -np.inf).max(axis=1, keepdims=True)
        with np.errstate(over="ignore", invalid="ignore"):  # graphs without past questions: masked below
            sharp = np.where(rows, np.exp((sims - top_sim) / 0.05), 0.0)
        sharp_mean, sharp_mass = _weighted_mean(scores, sharp, mask)
        out[:, :, 3] = _minus_best(sharp_mean, sharp_mass > 0)
        best = np.where(mask, scores, -np.inf).max(axis=2)
        worst = np.where(mask, scores, np.inf).min(axis=2)
        discriminative = best > worst
        win_mass = (weights * discriminative).sum(axis=1)
        wins = (scores >= best[:, :, None]) & mask & discriminative[:, :, None]
        win_share = (weights[:, :, None] * wins).sum(axis=1)
        np.divide(win_share, win_mass[:, None], out=out[:, :, 4], where=win_mass[:, None] > 0)
        total = weights.sum(axis=1, keepdims=True)
        np.divide(mass, total, out=out[:, :, 5], where=total > 0)
        nearest = np.where(mask, sims[:, :, None], -np.inf).argmax(axis=1)  # (G, A)
        near_score = np.take_along_axis(scores, nearest[:, None, :], axis=1)[:, 0, :]
        near_mean = np.take_along_axis(tables.row_mean, nearest, axis=1)
        out[:, :, 6] = np.where(seen, near_score - near_mean, 0.0)
        out[:, :, 7] = _weighted_mean(tables.costs, weights, mask)[0]
    result = []
    for i, graph in enumerate(graphs):
        ev = out[i, : len(graph.agents)]
        if graph.agent_vecs.size and graph.query_vec.size:
            ev[:, 8] = graph.agent_vecs @ graph.query_vec
        if graph.n_mentioned and graph.covers:
            covered = np.zeros(len(graph.agents), dtype=np.float32)
            for k, e in graph.covers:
                if e < graph.n_mentioned:
                    covered[k] += 1.0
            ev[:, 9] = covered / graph.n_mentioned
        if task_scores is not None and len(graph.agents):
            ev[:, 10] = task_scores[i]
            ev[:, 11] = task_scores[i] - task_scores[i].max()
        result.append(ev)
    return result
