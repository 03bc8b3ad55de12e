"""Cost–quality curves from routed decisions: λ and confidence sweeps, AIQ, and RouteLLM's APGR / CPT.

Every router is routed once; the curves re-select from its recorded probabilities, so a sweep costs no
retraining. Two sweeps:

* **cost weight λ** (signed, as in ``routers/calibration.py``): each question goes to the agent maximising
  ``p(a) − λ · c̄(a) / max c̄`` (c̄ = the agent's mean cost in the training fold), giving accuracy against
  dollars per question;
* **confidence threshold**: the smallest most-probable set whose probability reaches ``mass``, run with
  early stopping and the benchmark's aggregator, giving accuracy against agent calls per question.

AIQ (RouterBench) is the area under the non-decreasing upper convex hull of a curve, divided by the width
of the axis range (the cheapest to the dearest single agent; 1 to N calls); below a curve's cheapest point
it counts 0. On two-agent logs, APGR and CPT follow RouteLLM (``../shared/METHODS.md``): questions sorted
by the router's probability for the strong agent, the top share c sent to it, c = 0, 0.1, …, 1.
Ties in the APGR ranking and in the λ pick are broken by a seeded random draw, so uninformative
probabilities behave like random routing (APGR ≈ 0.5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agentroute.aggregate import Aggregator
from agentroute.bench.recorded import replay_question
from agentroute.routers.base import select_by_mass
from agentroute.types import RoutingDecision, RunRecord

_POSITIVE = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 1e6)
#: Signed: a negative λ prefers dearer agents, so the curve spans every cost between the extremes.
LAMBDAS = tuple(sorted({0.0, *_POSITIVE, *(-x for x in _POSITIVE)}))
MASSES = (0.0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
SHARES = tuple(i / 10 for i in range(11))


def upper_hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The upper convex hull of (x, y) points, left to right, cut where it stops rising."""
    best: dict[float, float] = {}
    for x, y in points:
        best[x] = max(y, best.get(x, -np.inf))
    pts = sorted(best.items())
    hull: list[tuple[float, float]] = []
    for p in pts:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:  # hull[-1] lies under the chord
                hull.pop()
            else:
                break
        hull.append(p)
    top = max(range(len(hull)), key=lambda i: (hull[i][1], -i)) if hull else 0
    return hull[: top + 1]


def aiq(points: Sequence[tuple[float, float]], lo: float, hi: float) -> float | None:
    """Area under the non-decreasing convex hull of ``points`` over [lo, hi], divided by ``hi − lo``."""
    hull = upper_hull(points)
    if not hull:
        return None
    if hi <= lo:
        return max(y for _, y in hull)
    xs = np.linspace(lo, hi, 2001)
    hx = np.array([x for x, _ in hull])
    hy = np.array([y for _, y in hull])
    ys = np.interp(xs, hx, hy, left=0.0, right=hy[-1])
    ys[xs < hx[0] - 1e-12] = 0.0
    return float(np.sum((ys[1:] + ys[:-1]) / 2 * np.diff(xs)) / (hi - lo))


def pgr_curve(
    router_scores: Sequence[float], strong: Sequence[float], weak: Sequence[float], seed: int = 0
) -> dict[str, Any]:
    """RouteLLM's PGR at strong-call shares 0, 0.1, …, 1, with APGR and CPT(50%) / CPT(80%)."""
    s, st, wk = (np.asarray(v, dtype=float) for v in (router_scores, strong, weak))
    n = s.size
    gap = float(st.mean() - wk.mean()) if n else 0.0
    if not abs(gap) > 1e-12:  # no question, or equally accurate agents: no gap to recover, PGR is undefined
        return {"shares": list(SHARES), "pgr": [], "apgr": None, "cpt50": None, "cpt80": None}
    jitter = np.random.default_rng(seed).random(n)
    order = np.lexsort((jitter, -s))  # highest router score first, ties at random
    acc_weak = float(wk.mean())
    pgr = []
    for c in SHARES:
        chosen = np.zeros(n, dtype=bool)
        chosen[order[: int(round(c * n))]] = True
        acc = float(np.where(chosen, st, wk).mean())
        pgr.append((acc - acc_weak) / gap)
    apgr = float(sum((pgr[i] + pgr[i + 1]) / 2 * (SHARES[i + 1] - SHARES[i]) for i in range(len(SHARES) - 1)))
    return {"shares": list(SHARES), "pgr": pgr, "apgr": apgr, "cpt50": cpt(pgr, 0.5), "cpt80": cpt(pgr, 0.8)}


def cpt(pgr: Sequence[float], target: float) -> float | None:
    """The strong-call share at which PGR first reaches ``target`` (linear interpolation), or None."""
    for i, value in enumerate(pgr):
        if value >= target - 1e-12:
            if i == 0:
                return 0.0
            lo, hi = pgr[i - 1], value
            frac = (target - lo) / (hi - lo) if hi > lo else 1.0
            return float(SHARES[i - 1] + frac * (SHARES[i] - SHARES[i - 1]))
    return None


def _fold_costs(rows: Sequence[RunRecord], fold_of: Sequence[int], fold: int) -> dict[str, float]:
    """Mean recorded cost per agent over the training rows of ``fold`` (what a router may know)."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for r, f in zip(rows, fold_of, strict=True):
        if f == fold:
            continue
        for a, cost in r.costs().items():
            sums[a] = sums.get(a, 0.0) + cost
            counts[a] = counts.get(a, 0) + 1
    return {a: sums[a] / counts[a] for a in sums}


def cost_sweep(
    decisions: Sequence[RoutingDecision],
    records: Sequence[RunRecord],
    train_costs: Sequence[Mapping[str, float]],
    seed: int = 0,
) -> list[dict[str, float]]:
    """Accuracy, dollars and calls per question for each λ in ``LAMBDAS`` (one agent per question)."""
    out = []
    ties = np.random.default_rng(seed).random((len(records), 64))
    for lam in LAMBDAS:
        scores, spent = [], []
        for i, (d, r, costs) in enumerate(zip(decisions, records, train_costs, strict=True)):
            cands = {a: p for a, p in d.probs.items() if a in r.scores()}
            if not cands:
                scores.append(0.0)
                spent.append(0.0)
                continue
            scale = max((c for c in costs.values() if c > 0), default=1.0)
            names = sorted(cands)
            pick = max(names, key=lambda a: (cands[a] - lam * costs.get(a, 0.0) / scale, ties[i, names.index(a) % 64]))
            scores.append(r.scores()[pick])
            spent.append(float(r.agents[pick].cost_usd or 0.0))
        out.append({"lambda": lam, "accuracy": float(np.mean(scores)), "cost": float(np.mean(spent)), "calls": 1.0})
    return out


def calls_sweep(
    decisions: Sequence[RoutingDecision], records: Sequence[RunRecord], aggregator: Aggregator, seed: int = 0
) -> list[dict[str, float]]:
    """Accuracy and calls per question for each probability-mass threshold in ``MASSES`` (early stopping)."""
    ties = np.random.default_rng(seed).random((len(records), 64))
    out = []
    for mass in MASSES:
        scores, calls, spent = [], [], []
        for i, (d, r) in enumerate(zip(decisions, records, strict=True)):
            probs = {a: p for a, p in d.probs.items() if a in r.scores()}
            if not probs:
                scores.append(0.0)
                calls.append(0)
                spent.append(0.0)
                continue
            names = sorted(probs)  # equal probabilities by a seeded draw, not by name: uniform ones are random
            chosen = select_by_mass(probs, mass, tie={a: ties[i, j % 64] for j, a in enumerate(names)})
            plan = d.model_copy(update={"selected": chosen, "early_stop": len(chosen) > 1})
            score, ran, cost = replay_question(aggregator, _query(r), plan, r)
            scores.append(score)
            calls.append(len(ran))
            spent.append(cost or 0.0)
        out.append(
            {
                "mass": mass,
                "accuracy": float(np.mean(scores)),
                "calls": float(np.mean(calls)),
                "cost": float(np.mean(spent)),
            }
        )
    return out


def _query(record: RunRecord) -> Any:
    from agentroute.types import Query

    return Query(id=record.qid, text=record.question)


def sweep_report(
    decisions: Mapping[str, Sequence[RoutingDecision]],
    records: Sequence[RunRecord],
    test_fold: Sequence[int],
    rows: Sequence[RunRecord],
    fold_of: Sequence[int],
    aggregator: Aggregator,
    seed: int = 0,
) -> dict[str, Any]:
    """Curves for every router (decisions aligned with ``records``), single agents, oracle, random mixing;
    AIQ per router on both axes; APGR / CPT on two-agent logs."""
    agents = sorted({a for r in records for a in r.scores()})
    has_cost = bool(records) and all(
        c.cost_usd is not None for r in records for c in r.agents.values() if c.score is not None
    )
    fold_costs = {f: _fold_costs(rows, fold_of, f) for f in sorted(set(test_fold))}
    train_costs = [fold_costs[f] for f in test_fold]
    singles: list[dict[str, Any]] = []
    for a in agents:
        on = [r for r in records if a in r.scores()]
        singles.append(
            {
                "agent": a,
                "accuracy": float(np.mean([r.scores()[a] for r in on])) if on else 0.0,
                "cost": float(np.mean([r.agents[a].cost_usd or 0.0 for r in on])) if has_cost and on else None,
                "coverage": len(on) / max(len(records), 1),
            }
        )
    oracle_scores, oracle_cost = [], []
    for r in records:
        sc = r.scores()
        top = max(sc.values())
        cheapest = min((a for a in sc if sc[a] == top), key=lambda a: (r.agents[a].cost_usd or 0.0, a))
        oracle_scores.append(top)
        oracle_cost.append(r.agents[cheapest].cost_usd or 0.0)
    out: dict[str, Any] = {
        "cost_unit": "usd" if has_cost else None,
        "singles": singles,
        "oracle": {
            "accuracy": float(np.mean(oracle_scores)) if records else 0.0,
            "cost": float(np.mean(oracle_cost)) if has_cost and records else None,
            "calls": 1.0,
        },
        "routers": {},
    }
    ran = [s for s in singles if s["coverage"] > 0]
    if has_cost and ran:  # each agent's mean cost on the questions it answered, whether or not it answered all
        lo, hi = min(s["cost"] for s in ran), max(s["cost"] for s in ran)
        out["cost_range"] = [lo, hi]
        full = [s for s in ran if s["coverage"] == 1.0]  # mixing agents is defined only where both always ran
        if len(full) >= 2:
            out["random_mixing"] = [list(p) for p in upper_hull([(s["cost"], s["accuracy"]) for s in full])]
            out["random_mixing_aiq"] = aiq([(s["cost"], s["accuracy"]) for s in full], lo, hi)
    for name, ds in decisions.items():
        if len(ds) != len(records):
            continue
        entry: dict[str, Any] = {"calls_curve": calls_sweep(ds, records, aggregator, seed)}
        entry["aiq_calls"] = aiq(
            [(p["calls"], p["accuracy"]) for p in entry["calls_curve"]], 1.0, float(max(len(agents), 1))
        )
        if has_cost:
            entry["cost_curve"] = cost_sweep(ds, records, train_costs, seed)
            if "cost_range" in out:
                lo, hi = out["cost_range"]
                entry["aiq"] = aiq([(p["cost"], p["accuracy"]) for p in entry["cost_curve"]], lo, hi)
        out["routers"][name] = entry
    if len(agents) == 2:
        out["two_agent"] = two_agent_summary(decisions, records, seed)
    return out


def two_agent_summary(
    decisions: Mapping[str, Sequence[RoutingDecision]], records: Sequence[RunRecord], seed: int = 0
) -> dict[str, Any]:
    """RouteLLM's strong/weak view: the more accurate agent (over the evaluated questions) is 'strong'."""
    agents = sorted({a for r in records for a in r.scores()})
    both = [i for i, r in enumerate(records) if all(a in r.scores() for a in agents)]
    means = {a: float(np.mean([records[i].scores()[a] for i in both])) for a in agents} if both else {}
    strong = max(agents, key=lambda a: (means.get(a, 0.0), a))
    weak = next(a for a in agents if a != strong)
    st = [records[i].scores()[strong] for i in both]
    wk = [records[i].scores()[weak] for i in both]
    routers = {}
    for name, ds in decisions.items():
        if len(ds) != len(records):
            continue
        routers[name] = pgr_curve([ds[i].probs.get(strong, 0.0) for i in both], st, wk, seed)
    return {
        "strong": strong,
        "weak": weak,
        "strong_accuracy": means.get(strong),
        "weak_accuracy": means.get(weak),
        "n": len(both),
        "routers": routers,
    }
