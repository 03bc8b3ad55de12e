"""Cost–quality curves, AIQ, APGR/CPT, paired comparisons, costs from prices, budget calibration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agentroute.aggregate import WeightedVote
from agentroute.bench.costs import call_cost, read_prices, with_costs
from agentroute.bench.curves import aiq, calls_sweep, cpt, pgr_curve, upper_hull
from agentroute.bench.metrics import mcnemar_p, paired_difference
from agentroute.routers.calibration import calibrate_calls, calibrate_cost
from agentroute.routers.fallback import HeldOut
from agentroute.types import AgentRecord, RoutingDecision, RunRecord


def test_aiq_is_the_area_under_the_rising_convex_hull() -> None:
    points = [(0.0, 0.5), (0.5, 0.55), (1.0, 0.7)]  # the middle point lies under the chord: ignored
    assert upper_hull(points) == [(0.0, 0.5), (1.0, 0.7)]
    assert aiq(points, 0.0, 1.0) == pytest.approx(0.6, abs=1e-3)
    # a costlier point that is worse does not pull the curve down: it stays flat at its best
    assert aiq([*points, (2.0, 0.6)], 0.0, 2.0) == pytest.approx((0.6 + 0.7) / 2, abs=1e-3)
    # a router that cannot be as cheap as the range starts gets nothing there
    assert aiq([(0.5, 0.8)], 0.0, 1.0) == pytest.approx(0.4, abs=1e-3)


def test_apgr_and_cpt_follow_routellm() -> None:
    strong = [1.0] * 5 + [0.0] * 5
    weak = [0.0] * 10
    perfect = pgr_curve([1.0] * 5 + [0.0] * 5, strong, weak)
    assert perfect["pgr"][:6] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert perfect["apgr"] == pytest.approx(0.75)
    assert perfect["cpt50"] == pytest.approx(0.25)
    assert perfect["cpt80"] == pytest.approx(0.4)
    rng = np.random.default_rng(0)
    s = (rng.random(4000) < 0.8).astype(float)
    w = (rng.random(4000) < 0.6).astype(float)
    uninformed = pgr_curve(np.zeros(4000), s, w, seed=1)  # all ties: a random order
    assert uninformed["apgr"] == pytest.approx(0.5, abs=0.05)
    assert cpt([0.0, 0.1, 0.2], 0.5) is None
    same = pgr_curve(np.ones(10), strong, strong)  # equally accurate agents: no gap, so no PGR at all
    assert same["apgr"] is None and same["cpt50"] is None and same["pgr"] == []
    assert pgr_curve([], [], [])["apgr"] is None  # no question with both agents scored


@pytest.mark.parametrize("right", ["a-right", "z-right"])
def test_the_calls_sweep_breaks_ties_at_random_not_by_name(right: str) -> None:
    """Uniform probabilities (the ``all`` router) give random routing at one call, whichever agent's name
    sorts first: the right agent's name must not decide the 1-call point."""
    wrong = "z-wrong" if right.startswith("a") else "a-wrong"
    records = [
        RunRecord(qid=f"q{i}", question=f"q{i}?", agents={right: AgentRecord(score=1.0), wrong: AgentRecord(score=0.0)})
        for i in range(400)
    ]
    uniform = RoutingDecision(router="all", probs={right: 0.5, wrong: 0.5}, selected=[right, wrong])
    curve = calls_sweep([uniform] * len(records), records, WeightedVote(), seed=3)
    one_call = next(p for p in curve if p["mass"] == 0.0)
    assert one_call["calls"] == 1.0 and 0.4 < one_call["accuracy"] < 0.6
    assert curve[-1]["calls"] == 2.0


def test_paired_comparison_and_mcnemar() -> None:
    a = [1.0] * 10 + [1.0, 0.0] * 20
    b = [0.0] * 10 + [1.0, 0.0] * 20
    assert mcnemar_p(a, b) == pytest.approx(2 * 0.5**10)
    d = paired_difference(a, b)
    assert d["diff"] == pytest.approx(0.2)
    assert d["low"] > 0 and d["low"] <= d["diff"] <= d["high"]
    assert (d["wins"], d["losses"]) == (10, 0)
    same = paired_difference(b, b)
    assert same["diff"] == same["low"] == same["high"] == 0.0 and same["p"] == 1.0
    assert paired_difference([0.5, 0.2], [0.1, 0.2])["p"] is not None  # soft scores: bootstrap p-value


def test_costs_from_tokens_prices_or_a_per_call_price(tmp_path: Path) -> None:
    cell = AgentRecord.model_validate(
        {"score": 1.0, "input_tokens": 1000, "output_tokens": 500, "input_price_per_M": 2.0, "output_price_per_M": 4.0}
    )
    assert call_cost("a", cell) == pytest.approx((1000 * 2 + 500 * 4) / 1e6)
    assert call_cost("a", cell, {"a": {"input_per_M": 1.0, "output_per_M": 1.0}}) == pytest.approx(1500 / 1e6)
    bare = AgentRecord(score=0.0)
    assert call_cost("b", bare) is None
    assert call_cost("b", bare, {"b": {"per_call": 0.01}}) == 0.01
    assert call_cost("b", AgentRecord(score=0.0, cost_usd=0.5), {"b": {"per_call": 0.01}}) == 0.5
    row = RunRecord(qid="q", question="?", agents={"b": bare})
    assert with_costs([row], {"b": {"per_call": 0.02}})[0].agents["b"].cost_usd == 0.02
    assert row.agents["b"].cost_usd is None  # the original is left alone
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"b": {"per_cal": 1}}))
    with pytest.raises(ValueError, match="prices.json: agent 'b': unknown price key"):
        read_prices(path)
    path.write_text("{oops")
    with pytest.raises(ValueError, match=r"prices.json:1: invalid JSON in prices file"):
        read_prices(path)


def held_two_agents(n: int = 200, seed: int = 0) -> HeldOut:
    """A cheap agent right 60% and a dear one right 80%; the router's p(dear) is informative."""
    rng = np.random.default_rng(seed)
    held = HeldOut()
    for _ in range(n):
        cheap, dear = float(rng.random() < 0.6), float(rng.random() < 0.8)
        p = float(np.clip(0.5 + 0.3 * (dear - cheap) + rng.normal(0, 0.15), 0.01, 0.99))
        held.probs.append({"cheap": 1 - p, "dear": p})
        held.selected.append(["dear" if p > 0.5 else "cheap"])
        held.scores.append({"cheap": cheap, "dear": dear})
        held.costs.append({"cheap": 0.001, "dear": 0.01})
    return held


def test_cost_calibration_lands_on_the_budget() -> None:
    held = held_two_agents()
    costs = {"cheap": 0.001, "dear": 0.01}
    for target in (0.002, 0.004, 0.007):
        cal = calibrate_cost(held, costs, target)
        assert cal.met and cal.cost is not None
        assert abs(cal.cost - target) <= 0.1 * target
    low = calibrate_cost(held, costs, 0.0005)  # below the cheapest agent: not reachable
    assert not low.met and low.cost == pytest.approx(0.001)
    generous = calibrate_cost(held, costs, 1.0)  # above the dearest: all dear, and the budget is kept
    assert generous.met and generous.cost == pytest.approx(0.01)


def test_calibration_says_when_the_target_is_missed_or_buys_no_accuracy() -> None:
    held = held_two_agents()
    costs = {"cheap": 0.001, "dear": 0.01}
    assert calibrate_cost(held, costs, 0.004).notes() == []  # the dear agent is the better one: money well spent
    (missed,) = calibrate_cost(held, costs, 0.0005).notes()
    assert missed.startswith("no setting meets the target on the 200 held-out questions: the closest gives $0.001")
    swapped = HeldOut(  # now the cheap agent is the better one: a generous budget buys the worse agent
        probs=[{"cheap": p["dear"], "dear": p["cheap"]} for p in held.probs],
        selected=held.selected,
        scores=[{"cheap": s["dear"], "dear": s["cheap"]} for s in held.scores],
        costs=held.costs,
    )
    generous = calibrate_cost(swapped, costs, 0.007)
    assert generous.value < 0 and generous.unweighted is not None
    (note,) = generous.notes()
    assert note.startswith("spending up to the target buys no accuracy here: without a cost weight")


def test_calls_calibration_bounds_the_set_size() -> None:
    held = held_two_agents()
    cal = calibrate_calls(held, 1.5)
    assert cal.met and 1.0 <= cal.calls <= 1.5
    assert calibrate_calls(held, 1.0).calls == 1.0


def test_calibrate_takes_any_router_and_says_when_it_is_not_a_guarded_one() -> None:
    from agentroute import calibrate, make_router

    with pytest.raises(ValueError, match="needs a fitted guarded router"):
        calibrate(make_router("knn", guard=False), target_cost=0.1)


def test_the_cost_sweep_knows_prices_only_from_the_training_folds() -> None:
    """What an agent costs is learned on the other folds: the test fold's own recorded costs, which a
    deployed router cannot know, must not move its choices."""
    from agentroute.bench.curves import _fold_costs, cost_sweep

    rows = [
        RunRecord(
            qid=f"q{i}",
            question="?",
            agents={"a": AgentRecord(score=1.0, cost_usd=c), "b": AgentRecord(score=0.0, cost_usd=0.01)},
        )
        for i, c in enumerate([0.02, 0.02, 0.02, 9.0])  # the last row (fold 1) is dear for a
    ]
    fold_of = [0, 0, 0, 1]
    assert _fold_costs(rows, fold_of, 1) == {"a": pytest.approx(0.02), "b": pytest.approx(0.01)}
    assert _fold_costs(rows, fold_of, 0) == {"a": pytest.approx(9.0), "b": pytest.approx(0.01)}
    decision = RoutingDecision(router="t", probs={"a": 0.6, "b": 0.4}, selected=["a"])
    sweep = cost_sweep([decision], rows[3:], [_fold_costs(rows, fold_of, 1)])
    by_lambda = {p["lambda"]: p for p in sweep}
    assert by_lambda[0.0]["accuracy"] == 1.0 and by_lambda[0.0]["cost"] == pytest.approx(9.0)  # charged as recorded
    # costs are scaled by the dearest known price (0.02): a's utility 0.6 - λ, b's 0.4 - λ/2, so a is kept
    # up to λ = 0.4 (a router that knew the test row's 9.0 would drop it at once)
    kept = [p["lambda"] for p in sweep if p["lambda"] >= 0 and p["accuracy"] == 1.0]
    assert max(kept) == 0.3
