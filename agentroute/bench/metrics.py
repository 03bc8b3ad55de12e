"""Scoring replayed answers and summarising results: answer score, cost, bootstrap CI, gap closed.

The answer rule (README, "Routing logs") lets a routing log score answers no agent was asked for again: a
final answer is worth the recorded score of an executed agent that gave that answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from agentroute.normalize import normalize_answer
from agentroute.types import RoutingDecision, RunRecord


def executed(selected: Sequence[str], record: RunRecord) -> list[str]:
    """Selected agents that actually ran on this row and have a score (a missing agent is 'not run')."""
    seen: set[str] = set()
    out: list[str] = []
    for a in selected:
        cell = record.agents.get(a)
        if a not in seen and cell is not None and cell.score is not None:
            out.append(a)
            seen.add(a)
    return out


def answer_score(answer_text: str, selected: Sequence[str], decision: RoutingDecision, record: RunRecord) -> float:
    """The recorded score of the final answer.

    * Some executed agent has a (non-empty) prediction: the max score among executed agents whose
      normalised prediction equals the normalised answer; 0 if none does.
    * No executed agent has a prediction (logs with scores only): the score of the executed agent with the
      highest routing probability; agents tied for it share the answer, so their mean score counts (the
      expected score of breaking the tie at random, rather than whichever agent happens to come first).
    * Nothing ran: 0.
    """
    ran = executed(selected, record)
    if not ran:
        return 0.0
    preds = {a: normalize_answer(record.agents[a].pred) for a in ran}
    if any(preds.values()):
        key = normalize_answer(answer_text)
        matching = [float(record.agents[a].score) for a in ran if key and preds[a] == key]  # type: ignore[arg-type]
        return max(matching, default=0.0)
    weight = {a: decision.probs.get(a, 0.0) for a in ran}
    best = max(weight.values())
    tied = [float(record.agents[a].score) for a in ran if weight[a] >= best - 1e-12]  # type: ignore[arg-type]
    return float(np.mean(tied))


def query_cost(selected: Sequence[str], record: RunRecord) -> float | None:
    """Dollar cost of the executed selected agents (sum of ``cost_usd``).

    None when any of them has no ``cost_usd``: logs that only give ``input_price_per_M`` /
    ``output_price_per_M`` (no token counts) or nothing cannot be costed, and a partial sum would
    understate the cost.
    """
    total = 0.0
    for a in executed(selected, record):
        cost = record.agents[a].cost_usd
        if cost is None:
            return None
        total += cost
    return total


def mean_cost(costs: Sequence[float | None]) -> float | None:
    """Mean cost per query, or None as soon as one query's cost is unknown."""
    if not costs or any(c is None for c in costs):
        return None
    return float(np.mean(costs))  # type: ignore[arg-type]


def bootstrap_ci(values: Sequence[float], n: int = 1000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean (questions resampled with replacement)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n, x.size))].mean(axis=1)
    return (float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2)))


def gap_closed(acc: float, best_single: float, oracle: float) -> float | None:
    """Share of the best-single → oracle gap a router closes (1 = oracle, 0 = best single, < 0 = worse).

    None when there is no gap to close.
    """
    gap = oracle - best_single
    if gap <= 1e-12:
        return None
    return (acc - best_single) / gap


def mcnemar_p(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float | None:
    """Exact two-sided McNemar p-value for paired 0/1 outcomes (None when they are not all 0/1).

    Only the discordant questions count: ``wins`` (a right, b wrong) against ``losses``; under "no
    difference" each discordant question is a fair coin.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not (np.isin(x, (0.0, 1.0)).all() and np.isin(y, (0.0, 1.0)).all()):
        return None
    wins = int(((x == 1) & (y == 0)).sum())
    losses = int(((x == 0) & (y == 1)).sum())
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    log_half = n * math.log(0.5)
    log_n = math.lgamma(n + 1)
    tail = sum(math.exp(log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + log_half) for i in range(k + 1))
    return float(min(1.0, 2.0 * tail))


def paired_difference(
    a: Sequence[float], b: Sequence[float], n: int = 2000, seed: int = 0, alpha: float = 0.05
) -> dict[str, float | None]:
    """Mean of ``a − b`` over the same questions, its paired-bootstrap interval, and a p-value.

    The interval resamples questions (both routers' outcomes move together, so shared difficulty
    cancels); the p-value is McNemar's exact test for 0/1 scores, else the bootstrap's two-sided share
    of resampled differences on the other side of 0.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"paired comparison needs two equally long, non-empty score lists ({x.size} vs {y.size})")
    d = x - y
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(n, d.size))].mean(axis=1)
    lo, hi = float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2))
    p = mcnemar_p(x, y)
    if p is None:
        p = float(min(1.0, 2.0 * min((means <= 0).mean(), (means >= 0).mean())))
    return {
        "diff": float(d.mean()),
        "low": lo,
        "high": hi,
        "p": p,
        "wins": float((d > 0).sum()),
        "losses": float((d < 0).sum()),
    }
