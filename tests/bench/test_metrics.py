from __future__ import annotations

import numpy as np
import pytest

from agentroute.bench.metrics import answer_score, bootstrap_ci, gap_closed, mean_cost, query_cost
from agentroute.types import AgentRecord, RoutingDecision, RunRecord


def record(cells: dict[str, dict]) -> RunRecord:
    return RunRecord(qid="q", question="?", agents={a: AgentRecord(**c) for a, c in cells.items()})


def decision(probs: dict[str, float]) -> RoutingDecision:
    return RoutingDecision(router="t", probs=probs, selected=list(probs))


def test_equal_predictions_score_the_max_of_matching_executed_agents() -> None:
    rec = record(
        {
            "a": {"score": 0.4, "pred": "The Paris"},
            "b": {"score": 0.9, "pred": "paris."},
            "c": {"score": 1.0, "pred": "Lyon"},
            "d": {"score": 1.0, "pred": "Paris"},  # not selected: does not count
        }
    )
    d = decision({"a": 0.5, "b": 0.3, "c": 0.2})
    assert answer_score("Paris", ["a", "b", "c"], d, rec) == pytest.approx(0.9)
    assert answer_score("Lyon", ["a", "b", "c"], d, rec) == pytest.approx(1.0)
    assert answer_score("Berlin", ["a", "b", "c"], d, rec) == 0.0
    assert answer_score("Paris", ["a"], d, rec) == pytest.approx(0.4)


def test_without_predictions_the_top_weighted_executed_agent_counts() -> None:
    rec = record({"a": {"score": 0.2}, "b": {"score": 0.8}, "c": {"score": 1.0}})
    assert answer_score("", ["a", "b"], decision({"a": 0.3, "b": 0.7}), rec) == pytest.approx(0.8)
    assert answer_score("", ["a", "b"], decision({"a": 0.7, "b": 0.3}), rec) == pytest.approx(0.2)
    # agents tied for the top weight count with their mean score; an agent that did not run is skipped
    assert answer_score("", ["b", "a"], decision({"a": 0.5, "b": 0.5}), rec) == pytest.approx(0.5)
    assert answer_score("", ["a", "b", "c"], decision({"a": 0.2, "b": 0.4, "c": 0.4}), rec) == pytest.approx(0.9)
    assert answer_score("", ["zz", "a"], decision({"zz": 0.9, "a": 0.1}), rec) == pytest.approx(0.2)


def test_nothing_ran_scores_zero() -> None:
    rec = record({"a": {"score": 1.0, "pred": "x"}, "b": {"score": None, "pred": "x"}})
    assert answer_score("x", [], decision({}), rec) == 0.0
    assert answer_score("x", ["missing", "b"], decision({"missing": 1.0, "b": 0.0}), rec) == 0.0


def test_cost_is_the_sum_of_known_costs_or_none() -> None:
    rec = record({"a": {"score": 1, "cost_usd": 0.01}, "b": {"score": 1, "cost_usd": 0.03}, "c": {"score": 1}})
    assert query_cost(["a", "b"], rec) == pytest.approx(0.04)
    assert query_cost(["a", "c"], rec) is None
    assert query_cost([], rec) == 0.0
    assert mean_cost([0.01, 0.03]) == pytest.approx(0.02)
    assert mean_cost([0.01, None]) is None
    assert mean_cost([]) is None


def test_bootstrap_ci_brackets_the_mean_and_is_seeded() -> None:
    values = np.random.default_rng(1).integers(0, 2, size=400).astype(float)
    lo, hi = bootstrap_ci(values, n=500, seed=3)
    assert lo < values.mean() < hi
    assert 0.05 < hi - lo < 0.15  # about ±2 standard errors of a proportion near 0.5 with n=400
    assert bootstrap_ci(values, n=500, seed=3) == (lo, hi)
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)


def test_gap_closed() -> None:
    assert gap_closed(0.6, 0.5, 0.7) == pytest.approx(0.5)
    assert gap_closed(0.7, 0.5, 0.7) == pytest.approx(1.0)
    assert gap_closed(0.4, 0.5, 0.7) == pytest.approx(-0.5)
    assert gap_closed(0.5, 0.5, 0.5) is None


def test_a_replayed_question_costs_its_agents_plus_the_routers_own_llm_spend() -> None:
    from agentroute.aggregate import WeightedVote
    from agentroute.bench.recorded import replay_question
    from agentroute.types import Query

    rec = record(
        {"a": {"score": 1.0, "pred": "x", "cost_usd": 0.01}, "b": {"score": 0.0, "pred": "y", "cost_usd": 0.03}}
    )
    routed = RoutingDecision(router="reasoning", probs={"a": 1.0}, selected=["a"], cost=0.002)
    score, ran, cost = replay_question(WeightedVote(), Query(text="?"), routed, rec)
    assert (score, ran) == (1.0, ["a"]) and cost == pytest.approx(0.012)
