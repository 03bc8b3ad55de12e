"""Replaying routing logs: recorded answers, scores and costs come back as AgentResults."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agentroute.agents import ReplayAgent, replay_pool
from agentroute.normalize import exact_match
from agentroute.testing.routing_log import synthetic_routing_log, write_routing_log
from agentroute.types import AgentRecord, AgentSpec, Query, RunRecord


def run(qid: str, **agents: dict) -> RunRecord:
    return RunRecord(qid=qid, question=f"question {qid}", agents={k: AgentRecord(**v) for k, v in agents.items()})


def q(qid: str) -> Query:
    return Query(id=qid, text="ignored: replay answers by id")


def test_replays_the_recorded_answer_score_cost_and_latency() -> None:
    bot = ReplayAgent("bot", {"q1": AgentRecord(score=0.5, pred="Paris", cost_usd=0.02, latency_s=1.5)})
    result = bot.run(q("q1"))
    assert (result.agent, result.answer, result.score, result.cost, result.latency_s) == (
        "bot",
        "Paris",
        0.5,
        0.02,
        1.5,
    )
    assert result.ok
    assert asyncio.run(bot.invoke(q("q1"))) == result  # invoke keeps recorded cost and latency


def test_missing_prediction_and_cost_fall_back() -> None:
    spec = AgentSpec(name="scored-only", cost_per_call=0.007)
    result = ReplayAgent(spec, {"q1": AgentRecord(score=1.0)}).run(q("q1"))
    assert result.answer == "" and result.score == 1.0 and result.cost == 0.007 and result.error is None


@pytest.mark.parametrize("answers", [{}, {"q1": AgentRecord(score=None, pred="x")}])
def test_unlogged_or_unscored_questions_count_as_not_run(answers: dict) -> None:
    bot = ReplayAgent(AgentSpec(name="bot", cost_per_call=1.0), answers)
    for result in (bot.run(q("q1")), asyncio.run(bot.invoke(q("q1")))):
        assert result.error == "not in log" and not result.ok
        assert result.score is None and result.cost == 0.0


def test_replay_pool_builds_one_agent_per_name() -> None:
    records = [
        run(
            "a",
            fast={"score": 1.0, "pred": "4", "cost_usd": 0.01},
            slow={"score": 0.0, "pred": "5", "cost_usd": 0.03},
        ),
        run("b", slow={"score": 1.0, "pred": "x", "cost_usd": 0.05}, third={"score": 0.0}),
    ]
    pool = replay_pool(records)
    assert pool.names == ["fast", "slow", "third"]
    assert pool["slow"].spec.cost_per_call == pytest.approx(0.04)  # mean recorded cost
    assert pool["third"].spec.cost_per_call == 0.0
    assert pool["fast"].run(q("a")).answer == "4"
    assert pool["slow"].run(q("b")).answer == "x"
    assert pool["fast"].run(q("b")).error == "not in log"  # fast has no record for b
    assert pool["third"].run(q("b")).score == 0.0


def test_replay_pool_accepts_specs() -> None:
    records = [run("a", math={"score": 1.0, "pred": "2"})]
    spec = AgentSpec(name="math", description="Math prompting", skills=["gsm8k"], cost_per_call=0.1)
    pool = replay_pool(records, specs={"math": spec})
    assert pool["math"].spec == spec
    assert pool["math"].run(q("a")).cost == 0.1


def _read(path: Path, records: list[RunRecord]) -> list[RunRecord]:
    """The records written as a routing log and read back line by line."""
    write_routing_log(path, records)
    with path.open() as f:
        return [RunRecord.model_validate_json(line) for line in f]


def test_replays_a_routing_log_faithfully(tmp_path: Path) -> None:
    records = _read(tmp_path / "log.jsonl", synthetic_routing_log(400))
    pool = replay_pool(records)
    assert pool.names == ["factual", "multihop", "math", "commonsense"]
    agree = total = 0
    for record in records:
        for name, logged in record.agents.items():
            result = pool[name].run(q(record.qid))
            assert result.score == logged.score and result.answer == (logged.pred or "")
            if record.gold and result.score is not None:
                total += 1
                agree += exact_match(result.answer, record.gold) == result.score
    assert total == 400 * 4
    assert agree == total  # the log's right answers are the gold ones, so EM from gold agrees everywhere


def test_replays_costs(tmp_path: Path) -> None:
    records = _read(tmp_path / "log.jsonl", synthetic_routing_log(200, costs=[0.001, 0.002, 0.004, 0.008]))
    pool = replay_pool(records)
    for name in pool.names:
        costs = [r.agents[name].cost_usd for r in records if name in r.agents and r.agents[name].cost_usd is not None]
        assert costs and pool[name].spec.cost_per_call == pytest.approx(sum(costs) / len(costs))
        first = next(r for r in records if name in r.agents and r.agents[name].score is not None)
        assert pool[name].run(q(first.qid)).cost == (first.agents[name].cost_usd or pool[name].spec.cost_per_call)
