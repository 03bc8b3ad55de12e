"""Budget pacing: on a batch of questions, the cost weight λ that spends the target per question.

Why: a λ calibrated once on held-out questions meets a budget on average, but a batch of a few hundred
questions misses it by sampling alone (on RouterArena's 162-question folds by up to ~20%; a random mix at
*exactly* the right share of dear calls lands within 10% only ~85% of the time). When the batch is known
before it is routed (a benchmark fold, an offline job), λ is chosen on the batch itself, from the router's
probabilities and each question's predicted costs (``cost_model.py``): nothing the batch's answers or
recorded costs say is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: Smaller batches keep the calibrated λ: pacing a handful of questions would chase one question's cost.
PACE_MIN_BATCH = 20


def pace(
    probs: Sequence[Mapping[str, float]], costs: Sequence[Mapping[str, float]], target: float, scale: float
) -> tuple[float, list[str | None], float]:
    """(λ, each question's pick, predicted cost per question): the λ whose picks by ``p − λ · cost / scale``
    have the predicted cost per question closest to ``target`` (ties: the cheaper).

    ``costs[i]`` holds question i's predicted cost for each of its candidates (``probs[i]``'s keys). A larger
    λ never picks a dearer agent for any question, so the spend falls as λ grows and a bisection over the
    λs where some pick changes finds the two that straddle the target."""
    names = sorted({a for p in probs for a in p})
    p = np.full((len(probs), len(names)), -np.inf)
    c = np.zeros((len(probs), len(names)))
    col = {a: j for j, a in enumerate(names)}
    for i, (pr, co) in enumerate(zip(probs, costs, strict=True)):
        for a, v in pr.items():
            p[i, col[a]] = v
            c[i, col[a]] = co.get(a, 0.0)
    has = np.isfinite(p).any(axis=1)
    if not has.any():
        return 0.0, [None] * len(probs), 0.0
    ph, ch = p[has], c[has]
    lams = _crossings(ph, ch, scale)
    lo, hi = 0, len(lams) - 1  # spend(lams[0]) is the most, spend(lams[-1]) the least
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _spend(ph, ch, lams[mid], scale) > target:
            lo = mid
        else:
            hi = mid
    spend, lam = min(
        ((_spend(ph, ch, lams[i], scale), lams[i]) for i in (lo, hi)), key=lambda s: (abs(s[0] - target), s[0])
    )
    idx = np.argmax(p - lam * c / scale, axis=1)
    picks = [names[j] if ok else None for j, ok in zip(idx.tolist(), has.tolist(), strict=True)]
    return lam, picks, spend


def _spend(p: np.ndarray, c: np.ndarray, lam: float, scale: float) -> float:
    """Predicted cost per question of the λ-utility picks (every row has a candidate)."""
    idx = np.argmax(p - lam * c / scale, axis=1)
    return float(c[np.arange(idx.size), idx].mean())


def _crossings(p: np.ndarray, c: np.ndarray, scale: float) -> list[float]:
    """One λ inside each interval between the λs where some question's pick changes (two candidates'
    utilities cross), and one beyond each end, in increasing order: between two crossings every pick is
    fixed, so these are all the choices a λ can make."""
    cuts: list[np.ndarray] = []
    for a in range(p.shape[1]):
        for b in range(a + 1, p.shape[1]):
            both = np.isfinite(p[:, a]) & np.isfinite(p[:, b]) & (np.abs(c[:, a] - c[:, b]) > 1e-15)
            cuts.append((p[both, a] - p[both, b]) * scale / (c[both, a] - c[both, b]))
    x = np.unique(np.concatenate(cuts)) if cuts else np.array([0.0])
    if x.size == 0:
        x = np.array([0.0])
    ends = [float(x[0] - 1 - abs(x[0])), float(x[-1] + 1 + abs(x[-1]))]
    return [ends[0], *((x[1:] + x[:-1]) / 2).tolist(), ends[1]]
