"""Budget calibration: pick the cost weight λ (or the set router's mass threshold) that meets a budget on
held-out questions, as RouteLLM calibrates its threshold on held-out data.

The held-out questions are the guard's (``routers/fallback.py``): the router copy trained without them
routed them, and their recorded scores and costs say what each choice would have cost. λ is signed: a
positive λ trades accuracy for cheaper agents, a negative one spends more on dearer agents where the router
is least sure of the cheap one (on logs where the cheap agent is also the best). The chosen λ is the one whose
held-out cost comes closest to the target; a call budget is met from below (at most N agents on average).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from agentroute.routers.base import Router, select_by_mass
from agentroute.routers.fallback import GuardedRouter, HeldOut, cost_scale, utility_pick

_POS = tuple(float(x) for x in np.geomspace(1e-3, 1e3, 61))
#: Signed cost weights tried by ``calibrate_cost`` (±1e6: always the cheapest / the dearest agent).
CALIBRATION_LAMBDAS = tuple(sorted({0.0, 1e6, -1e6, *_POS, *(-x for x in _POS)}))


@dataclass
class Calibration:
    """The chosen setting and what it did on the held-out questions."""

    setting: str  # "cost_weight" or "mass"
    value: float
    cost: float | None  # held-out mean cost (USD) per question
    calls: float  # held-out mean agents selected per question
    accuracy: float  # held-out mean score of the top chosen agent
    n: int
    met: bool  # False when the closest setting misses the target (over it, or under it while more could be spent)
    #: (cost, accuracy) of λ = 0 on the same questions (cost calibration): what spending to the target buys
    unweighted: tuple[float, float] | None = None

    def notes(self) -> list[str]:
        """What a user should hear about the choice: a target missed, or money spent for less accuracy."""
        out = []
        if not self.met:
            got = f"${self.cost:.6g} per question" if self.cost is not None else f"{self.calls:.2f} agents"
            out.append(f"no setting meets the target on the {self.n} held-out questions: the closest gives {got}")
        if self.unweighted is not None and self.cost is not None:
            cost0, acc0 = self.unweighted
            if self.cost > cost0 and self.accuracy < acc0 - 0.01:
                out.append(
                    f"spending up to the target buys no accuracy here: without a cost weight the held-out "
                    f"questions cost ${cost0:.6g} at accuracy {acc0:.3f}, at the target ${self.cost:.6g} at "
                    f"{self.accuracy:.3f} (a lower --target-cost keeps the accuracy)"
                )
        return out


def _evaluate(held: HeldOut, prior_costs: Mapping[str, float], lam: float) -> tuple[float, float]:
    """(mean recorded cost, mean recorded score) of the λ-utility pick on each held-out question."""
    costs, scores = [], []
    for probs, sc, co in zip(held.probs, held.scores, held.costs, strict=True):
        cands = {a: p for a, p in probs.items() if a in sc}
        pick = utility_pick(cands, prior_costs, lam) if cands else None
        if pick is None:
            continue
        if pick not in co:
            raise ValueError(f"agent {pick!r} has no recorded cost on a held-out question: give costs (--prices)")
        costs.append(co[pick])
        scores.append(sc[pick])
    if not costs:
        raise ValueError("no held-out question to calibrate on")
    return float(np.mean(costs)), float(np.mean(scores))


def breakpoints(held: HeldOut, prior_costs: Mapping[str, float], limit: int = 400) -> list[float]:
    """The λ values at which some held-out question's pick changes (two agents' utilities cross), thinned
    to at most ``limit`` quantiles, plus a point between each pair and the fixed grid: the held-out cost is
    a step function of λ, so trying one λ per step finds every cost the router can reach there."""
    scale = cost_scale(prior_costs)
    cuts: list[float] = []
    for probs in held.probs:
        names = sorted(probs)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                dc = (prior_costs.get(a, 0.0) - prior_costs.get(b, 0.0)) / scale
                if abs(dc) > 1e-12:
                    cuts.append((probs[a] - probs[b]) / dc)
    if len(cuts) > limit:
        cuts = [float(q) for q in np.quantile(cuts, np.linspace(0, 1, limit))]
    cuts = sorted(set(cuts))
    mids = [(x + y) / 2 for x, y in zip(cuts, cuts[1:], strict=False)]
    return sorted({*CALIBRATION_LAMBDAS, *mids, *(c * (1 + 1e-6) for c in cuts), *(c * (1 - 1e-6) for c in cuts)})


def calibrate_cost(held: HeldOut, prior_costs: Mapping[str, float], target: float) -> Calibration:
    """The λ whose held-out cost per question comes closest to ``target`` (RouteLLM calibrates its
    threshold the same way: the expected spend equals the budget); ``met`` says whether it is within 10%,
    or below the target because no setting spends more (a generous budget is kept, not missed)."""
    if not held.probs:
        raise ValueError("calibration needs the guard's held-out questions (train on at least ~50 questions)")
    results = [(lam, *_evaluate(held, prior_costs, lam)) for lam in breakpoints(held, prior_costs)]
    lam, cost, acc = min(results, key=lambda r: (abs(r[1] - target), r[1], -r[2], abs(r[0])))
    dearest = max(r[1] for r in results)
    met = abs(cost - target) <= 0.1 * target or target >= cost >= dearest - 1e-12
    unweighted = _evaluate(held, prior_costs, 0.0)
    return Calibration("cost_weight", lam, cost, 1.0, acc, len(held.probs), met, unweighted)


def calibrate_calls(
    held: HeldOut, target: float, masses: Sequence[float] | None = None, cap: int | None = None
) -> Calibration:
    """The probability-mass threshold whose held-out mean set size is the largest one not above ``target``
    (an upper bound on calls: early stopping skips agents once the vote is settled)."""
    if not held.probs:
        raise ValueError("calibration needs the guard's held-out questions (train on at least ~50 questions)")
    grid = masses or tuple(float(m) for m in np.linspace(0.0, 1.0, 101))
    best: tuple[float, float, float] | None = None
    smallest: tuple[float, float, float] | None = None
    for m in grid:
        sizes, scores = [], []
        for probs, sc in zip(held.probs, held.scores, strict=True):
            cands = {a: p for a, p in probs.items() if a in sc}
            if not cands:
                continue
            chosen = select_by_mass(cands, m, cap=cap)
            sizes.append(len(chosen))
            scores.append(sc[chosen[0]])
        point = (m, float(np.mean(sizes)), float(np.mean(scores)))
        if smallest is None or point[1] < smallest[1]:
            smallest = point
        if point[1] <= target + 1e-9 and (best is None or point[1] > best[1] + 1e-12):
            best = point
    assert smallest is not None
    chosen_point, met = (best, True) if best is not None else (smallest, False)
    return Calibration("mass", chosen_point[0], None, chosen_point[1], chosen_point[2], len(held.probs), met)


@runtime_checkable
class SelectsByMass(Protocol):
    """A router whose set size follows a probability-mass threshold, when it declares so (the GNN, unless
    it picks top-1 or top-k): ``calibrate --target-calls`` sets ``mass``."""

    mass: float
    max_calls: int | None

    @property
    def selects_by_mass(self) -> bool: ...


def check_budget(target_cost: float | None, target_calls: float | None) -> None:
    """Exactly one budget, and a usable one (a ValueError naming the option; checked before any training)."""
    if (target_cost is None) == (target_calls is None):
        raise ValueError("give exactly one of --target-cost USD or --target-calls N")
    if target_cost is not None and not (math.isfinite(target_cost) and target_cost > 0):
        raise ValueError(f"--target-cost must be a positive number of USD per question, got {target_cost}")
    if target_calls is not None and not (math.isfinite(target_calls) and target_calls >= 1):
        raise ValueError(f"--target-calls must be a number of at least 1, got {target_calls}")


def calibrate(router: Router, target_cost: float | None = None, target_calls: float | None = None) -> Calibration:
    """Set ``router``'s cost weight (``target_cost``, which batches of questions then pace to: see
    ``GuardedRouter.paced``) or its wrapped router's ``mass`` (``target_calls``). ``router`` is a fitted
    guarded router (``make_router`` of one registered ``guarded``, or ``load_router``): it calibrates on
    the questions its guard held out."""
    if not isinstance(router, GuardedRouter):
        raise ValueError(f"calibrate needs a fitted guarded router (e.g. make_router('gnn')), got {router.name!r}")
    check_budget(target_cost, target_calls)
    if target_cost is not None:
        result = calibrate_cost(router.held, router.state.prior_costs, target_cost)
        router.cost_weight = result.value
        router.target_cost = target_cost
        return result
    assert target_calls is not None
    inner = router.inner
    if not (isinstance(inner, SelectsByMass) and inner.selects_by_mass):
        raise ValueError(f"router {router.name!r} selects a fixed number of agents: --target-calls needs gnn")
    result = calibrate_calls(router.held, target_calls, cap=inner.max_calls)
    router.target_cost = None
    inner.mass = result.value
    return result
