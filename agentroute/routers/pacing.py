"""Budget pacing: on a batch of questions, the cost weight λ that spends the target per question.

Why: a λ calibrated once on held-out questions meets a budget on average, but a batch of a few hundred
questions misses it by sampling alone (on RouterArena's 162-question folds by up to ~20%; a random mix at
*exactly* the right share of dear calls lands within 10% only ~85% of the time). When the batch is known
before it is routed (a benchmark fold, an offline job), λ is chosen on the batch itself (``pace``), from the
router's probabilities and each question's predicted costs (``cost_model.py``): nothing the batch's answers
or recorded costs say is used. When questions come one at a time, λ is chosen on the ones that came before
(``StreamPacer``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Hashable, Mapping, Sequence

import numpy as np

#: Smaller batches are paced as a stream (``StreamPacer``): pacing a handful at once would chase one question's cost.
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
    col = {a: j for j, a in enumerate(names)}
    p = np.full((len(probs), len(names)), -np.inf)
    c = np.zeros((len(probs), len(names)))
    for i, (pr, co) in enumerate(zip(probs, costs, strict=True)):
        p[i], c[i] = _row(pr, co, col)
    has = np.isfinite(p).any(axis=1)
    if not has.any():
        return 0.0, [None] * len(probs), 0.0
    lam, spend = _lambda(p[has], c[has], target, scale)
    idx = np.argmax(p - lam * c / scale, axis=1)
    picks = [names[j] if ok else None for j, ok in zip(idx.tolist(), has.tolist(), strict=True)]
    return lam, picks, spend


def _row(
    probs: Mapping[str, float], costs: Mapping[str, float], col: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """One question's probabilities (−inf where an agent is no candidate) and costs, by column."""
    p, c = np.full(len(col), -np.inf), np.zeros(len(col))
    for a, v in probs.items():
        p[col[a]], c[col[a]] = v, costs.get(a, 0.0)
    return p, c


def _lambda(p: np.ndarray, c: np.ndarray, target: float, scale: float) -> tuple[float, float]:
    """``pace`` on matrices (every row has a candidate): (λ, predicted cost per question at λ)."""
    lams = _crossings(p, c, scale)
    lo, hi = 0, len(lams) - 1  # spend(lams[0]) is the most, spend(lams[-1]) the least
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _spend(p, c, float(lams[mid]), scale) > target:
            lo = mid
        else:
            hi = mid
    spend, lam = min(
        ((_spend(p, c, float(lams[i]), scale), float(lams[i])) for i in (lo, hi)),
        key=lambda s: (abs(s[0] - target), s[0]),
    )
    return lam, spend


def _spend(p: np.ndarray, c: np.ndarray, lam: float, scale: float) -> float:
    """Predicted cost per question of the λ-utility picks (every row has a candidate)."""
    idx = np.argmax(p - lam * c / scale, axis=1)
    return float(c[np.arange(idx.size), idx].mean())


def _crossings(p: np.ndarray, c: np.ndarray, scale: float) -> np.ndarray:
    """One λ inside each interval between the λs where some question's pick changes (two candidates'
    utilities cross), and one beyond each end, in increasing order: between two crossings every pick is
    fixed, so these are all the choices a λ can make."""
    a, b = np.triu_indices(p.shape[1], k=1)  # every pair of agents, all questions at once
    with np.errstate(invalid="ignore"):  # −inf − −inf: neither agent is a candidate
        dp, dc = p[:, a] - p[:, b], c[:, a] - c[:, b]
    both = np.isfinite(dp) & (np.abs(dc) > 1e-15)
    x = np.unique(dp[both] * scale / dc[both])
    if x.size == 0:
        x = np.array([0.0])
    ends = np.array([x[0] - 1 - abs(x[0]), x[-1] + 1 + abs(x[-1])])
    return np.concatenate([ends[:1], (x[1:] + x[:-1]) / 2, ends[1:]])


#: Questions a stream is paced on: the latest ones routed before the current one.
STREAM_WINDOW = 100
#: Questions over which a stream repays what it overspent so far (or spends what it saved).
STREAM_HORIZON = 20
#: Picks whose real cost may still be reported (``StreamPacer.charge``); older ones keep their prediction.
STREAM_UNCHARGED = 1000
#: Charged picks needed before their real-over-predicted cost ratio rescales the window's predictions.
MIN_CHARGED = 10


class StreamPacer:
    """Budget pacing one question at a time: λ is chosen by ``pace`` on the last ``window`` questions
    routed before this one (their probabilities and predicted costs), then this question is picked with it.

    Why: ``ask`` and the server route each question as it comes, where a λ calibrated once misses a budget
    by what the traffic's questions differ from the calibration slice's. The recent questions are the best
    sample of the traffic still to come. The question being routed is left out of its own λ: a dear question
    would otherwise raise the λ that decides it. Traffic drifts (a run of long questions, then short ones),
    so the window lags; the pacer therefore also aims to repay what the stream has overspent (or spend what
    it has saved) within the next ``horizon`` questions: the window is paced to ``target + (target · n −
    spent) / horizon`` for ``n`` questions and ``spent`` dollars so far. ``spent`` counts each pick's
    predicted cost until ``charge`` reports what the question really cost. A cost model that errs the same
    way for a while (prices changed, answers grew longer) would leave that term to repay a steady gap, which
    it does only by running behind (or ahead of) the budget, so the window's predicted costs are also
    rescaled by the real-over-predicted ratio of the latest ``window`` charged picks that were predicted to
    cost something (once ``MIN_CHARGED`` were). Until ``PACE_MIN_BATCH`` questions were seen, questions are
    picked with ``start_lambda`` (the calibrated λ). Thread-safe: a server routes concurrent requests through
    one pacer."""

    def __init__(
        self,
        target: float,
        scale: float,
        start_lambda: float = 0.0,
        window: int = STREAM_WINDOW,
        horizon: float = STREAM_HORIZON,
    ) -> None:
        if window < PACE_MIN_BATCH:
            raise ValueError(f"a stream window must hold at least {PACE_MIN_BATCH} questions, got {window}")
        self.target, self.scale, self.start_lambda, self.horizon = target, scale, start_lambda, horizon
        self._recent: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=window)  # rows by ``_col``
        self._col: dict[str, int] = {}
        self._seen, self._spent = 0, 0.0
        self._uncharged: dict[Hashable, list[float]] = {}  # key -> predicted costs of its picks, oldest first
        self._charged, self._lambda = 0, start_lambda
        # (predicted, real) of the latest charged picks predicted to cost something: picks predicted free say
        # nothing about the scale of the predictions (their real cost still counts in the spend)
        self._bills: deque[tuple[float, float]] = deque(maxlen=window)
        self._lock = threading.Lock()

    def pick(
        self, probs: Mapping[str, float], costs: Mapping[str, float], key: Hashable | None = None
    ) -> tuple[float, str | None, float, int]:
        """(λ, this question's pick, the spend per question the window was paced to, the window's length:
        0 while ``start_lambda`` is used). With ``key``, ``charge(key, cost)`` may later replace the pick's
        predicted cost by its real one."""
        with self._lock:
            n = len(self._recent) if len(self._recent) >= PACE_MIN_BATCH else 0
            aim = max(0.0, self.target + (self.target * self._seen - self._spent) / self.horizon)
            lam, ratio = self.start_lambda, 1.0
            if n:
                p, c = np.stack([p for p, _ in self._recent]), np.stack([c for _, c in self._recent])
                ratio = self._price_ratio()  # the costs λ is chosen on, and this question is picked by
                lam = _lambda(p, c * ratio, aim, self.scale)[0]
            u = {a: p - lam * ratio * costs.get(a, 0.0) / self.scale for a, p in probs.items()}
            agent = max(sorted(u), key=u.__getitem__) if u else None  # ties: the first name, as ``pace``
            self._remember(probs, costs)
            self._seen, self._lambda = self._seen + 1, lam
            predicted = costs.get(agent, 0.0) if agent is not None else 0.0
            self._spent += predicted
            if key is not None:
                self._uncharged.setdefault(key, []).append(predicted)
                if len(self._uncharged) > STREAM_UNCHARGED:
                    del self._uncharged[next(iter(self._uncharged))]
        return lam, agent, aim, n

    def charge(self, key: Hashable, cost: float) -> bool:
        """Count what the oldest uncharged pick made under ``key`` really cost instead of its prediction;
        False when there is none (not paced on this stream, already charged, or too old)."""
        with self._lock:
            predicted = self._uncharged.get(key)
            if not predicted:
                return False
            guess = predicted.pop(0)
            self._spent += cost - guess
            self._charged += 1
            if guess > 0:
                self._bills.append((guess, cost))
            if not predicted:
                del self._uncharged[key]
            return True

    def _price_ratio(self) -> float:
        """What the latest charged picks really cost over what was predicted for them (1 until enough were)."""
        if len(self._bills) < MIN_CHARGED:
            return 1.0
        real = sum(r for _, r in self._bills)
        return real / sum(p for p, _ in self._bills) if real > 0 else 1.0

    def snapshot(self) -> dict[str, float | int]:
        """Where the stream stands: questions routed, dollars spent so far (real where charged, predicted
        otherwise) and per question, how many were charged, their real-over-predicted cost ratio, and the λ of
        the latest pick."""
        with self._lock:
            per_question = self._spent / self._seen if self._seen else 0.0
            return {
                "questions": self._seen,
                "spent": self._spent,
                "per_question": per_question,
                "charged": self._charged,
                "price_ratio": self._price_ratio(),
                "lambda": self._lambda,
            }

    def _remember(self, probs: Mapping[str, float], costs: Mapping[str, float]) -> None:
        """Keep a question's row; an agent not seen before gets a column (−inf, no candidate, in older rows)."""
        new = [a for a in sorted(probs) if a not in self._col]
        if new:
            self._col.update({a: len(self._col) + i for i, a in enumerate(new)})
            grow = len(new)
            self._recent = deque(
                (
                    (np.concatenate([p, np.full(grow, -np.inf)]), np.concatenate([c, np.zeros(grow)]))
                    for p, c in self._recent
                ),
                maxlen=self._recent.maxlen,
            )
        self._recent.append(_row(probs, costs, self._col))
