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
    have the predicted cost per question closest to ``target`` (ties: the cheaper, then the smaller |λ|).

    ``costs[i]`` holds question i's predicted cost for each of its candidates (``probs[i]``'s keys)."""
    names = sorted({a for p in probs for a in p})
    if not names:
        return 0.0, [None] * len(probs), 0.0
    col = {a: j for j, a in enumerate(names)}
    p = np.full((len(probs), len(names)), -np.inf)
    c = np.zeros((len(probs), len(names)))
    for i, (pr, co) in enumerate(zip(probs, costs, strict=True)):
        for a, v in pr.items():
            p[i, col[a]] = v
            c[i, col[a]] = co.get(a, 0.0)
    best: tuple[float, float, float, float] | None = None  # (|miss|, spend, |λ|, λ)
    for lam in _candidate_lambdas(p, c, scale):
        spend = _spend(p, c, lam, scale)
        key = (abs(spend - target), spend, abs(lam), lam)
        if best is None or key < best:
            best = key
    assert best is not None
    lam = best[3]
    has = np.isfinite(p).any(axis=1)
    idx = np.argmax(p - lam * c / scale, axis=1)
    picks = [names[j] if ok else None for j, ok in zip(idx.tolist(), has.tolist(), strict=True)]
    return lam, picks, best[1]


def _spend(p: np.ndarray, c: np.ndarray, lam: float, scale: float) -> float:
    """Predicted cost per question (with a candidate) of the λ-utility picks."""
    has = np.isfinite(p).any(axis=1)
    if not has.any():
        return 0.0
    idx = np.argmax(p[has] - lam * c[has] / scale, axis=1)
    return float(c[has][np.arange(idx.size), idx].mean())


def _candidate_lambdas(p: np.ndarray, c: np.ndarray, scale: float, limit: int = 1000) -> list[float]:
    """Every λ where some question's pick can change (two candidates' utilities cross), thinned to ``limit``
    quantiles, with a point on each side of each and between neighbours, plus 0 and ±1e6 (always the
    cheapest / the dearest)."""
    cuts: list[np.ndarray] = []
    for a in range(p.shape[1]):
        for b in range(a + 1, p.shape[1]):
            both = np.isfinite(p[:, a]) & np.isfinite(p[:, b]) & (np.abs(c[:, a] - c[:, b]) > 1e-15)
            cuts.append((p[both, a] - p[both, b]) * scale / (c[both, a] - c[both, b]))
    x = np.unique(np.concatenate(cuts)) if cuts else np.array([])
    if x.size > limit:
        x = np.unique(np.quantile(x, np.linspace(0.0, 1.0, limit)))
    mids = (x[1:] + x[:-1]) / 2
    edges = np.concatenate([x - 1e-9 * (1 + np.abs(x)), x + 1e-9 * (1 + np.abs(x))])
    return sorted({0.0, 1e6, -1e6, *mids.tolist(), *edges.tolist()})
