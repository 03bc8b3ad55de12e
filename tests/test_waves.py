"""Early stopping: wave planning, and the pipeline and replay calling only the agents they need."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from agentroute import AgentRoute, Query
from agentroute.aggregate import make_aggregator
from agentroute.bench.recorded import replay_question
from agentroute.routers.base import BaseRouter
from agentroute.types import AgentRecord, AgentResult, QueryGraph, RoutingDecision, RunRecord
from agentroute.waves import next_wave

PROBS = {"a": 0.5, "b": 0.3, "c": 0.2}

if TYPE_CHECKING:
    from conftest import CountingAgents


def decision(early_stop: bool = True, probs: dict[str, float] = PROBS) -> RoutingDecision:
    return RoutingDecision(router="t", probs=probs, selected=list(probs), early_stop=early_stop)


def said(agent: str, answer: str | None, error: str | None = None) -> AgentResult:
    return AgentResult(agent=agent, answer=answer, error=error)


def test_without_early_stop_everything_runs_in_one_wave() -> None:
    vote = make_aggregator("weighted-vote")
    assert next_wave(decision(False), vote, []) == ["a", "b", "c"]
    assert next_wave(decision(False), vote, [said(a, "x") for a in "abc"]) == []


def test_first_wave_is_the_shortest_that_could_settle_the_vote() -> None:
    vote = make_aggregator("weighted-vote")
    assert next_wave(decision(), vote, []) == ["a", "b"]  # 0.5 alone cannot outweigh 0.3 + 0.2
    confident = decision(probs={"a": 0.8, "b": 0.1, "c": 0.1})
    assert next_wave(confident, vote, []) == ["a"]
    assert next_wave(confident, vote, [said("a", "x")]) == []


def test_agreement_stops_and_disagreement_calls_the_rest() -> None:
    vote = make_aggregator("weighted-vote")
    assert next_wave(decision(), vote, [said("a", "Paris"), said("b", "paris")]) == []
    assert next_wave(decision(), vote, [said("a", "Paris"), said("b", "Rome")]) == ["c"]


def test_a_failed_agent_casts_no_vote() -> None:
    vote = make_aggregator("weighted-vote")
    assert next_wave(decision(), vote, [said("a", None, error="boom")]) == ["b"]
    assert next_wave(decision(), vote, [said("a", "", error=None), said("b", "Rome")]) == []


def test_majority_and_top_one_also_settle() -> None:
    majority = make_aggregator("majority")
    assert next_wave(decision(), majority, []) == ["a", "b"]  # two agreeing votes beat the one left
    assert next_wave(decision(), majority, [said("a", "x"), said("b", "y")]) == ["c"]
    top = make_aggregator("top-one")
    assert next_wave(decision(), top, []) == ["a"]
    assert next_wave(decision(), top, [said("a", "x")]) == []
    assert next_wave(decision(), top, [said("a", None, error="boom")]) == ["b"]


class Fixed(BaseRouter):
    name = "fixed"

    def __init__(self, early_stop: bool) -> None:
        self.early_stop = early_stop

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        probs = {"a": 0.45, "b": 0.35, "c": 0.2}
        return RoutingDecision(router=self.name, probs=probs, selected=list(probs), early_stop=self.early_stop)


@pytest.mark.parametrize(
    ("answers", "expected_calls", "expected_text"),
    [
        ({"a": "4", "b": "4", "c": "5"}, {"a", "b"}, "4"),
        ({"a": "4", "b": "5", "c": "5"}, {"a", "b", "c"}, "5"),
        ({"a": "4", "b": "5", "c": "6"}, {"a", "b", "c"}, "4"),
    ],
)
def test_pipeline_calls_only_the_agents_it_needs_and_answers_as_a_full_call_would(
    answers: dict[str, str], expected_calls: set[str], expected_text: str, counting_agents: CountingAgents
) -> None:
    calls: Counter[str] = Counter()
    lazy = AgentRoute(counting_agents(answers, calls), Fixed(early_stop=True)).ask("What is 2 + 2?")
    assert set(calls) == expected_calls and all(v == 1 for v in calls.values())
    assert sorted(r.agent for r in lazy.results) == sorted(expected_calls)
    full = AgentRoute(counting_agents(answers, Counter()), Fixed(early_stop=False)).ask("What is 2 + 2?")
    assert lazy.text == full.text == expected_text


def test_replay_charges_only_the_agents_that_ran() -> None:
    vote = make_aggregator("weighted-vote")
    record = RunRecord(
        qid="q",
        question="?",
        agents={
            "a": AgentRecord(score=1.0, pred="4"),
            "b": AgentRecord(score=1.0, pred="4"),
            "c": AgentRecord(score=0.0, pred="5"),
        },
    )
    score, ran, _ = replay_question(vote, Query(id="q", text="?"), decision(), record)
    assert (score, ran) == (1.0, ["a", "b"])
    score, ran, _ = replay_question(vote, Query(id="q", text="?"), decision(False), record)
    assert (score, ran) == (1.0, ["a", "b", "c"])


def test_waves_run_in_the_uncompiled_graph_under_a_host_checkpointer(counting_agents: CountingAgents) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    calls: Counter[str] = Counter()
    ar = AgentRoute(counting_agents({"a": "4", "b": "5", "c": "5"}, calls), Fixed(early_stop=True))
    app = ar.as_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t1"}}
    state = asyncio.run(app.ainvoke({"question": "What is 2 + 2?"}, config))
    assert state["answer"] == "5" and sorted(calls) == ["a", "b", "c"]
    history = list(app.get_state_history(config))
    assert len(history) > 4  # the waves went through the checkpointer step by step


def test_when_every_agent_called_failed_the_next_most_probable_is_tried() -> None:
    vote = make_aggregator("weighted-vote")
    chose_a = RoutingDecision(router="t", probs={"c": 0.2, "a": 0.5, "b": 0.3}, selected=["a"], fallback=2)
    left_to_the_caller = chose_a.model_copy(update={"fallback": None})
    assert next_wave(left_to_the_caller, vote, [said("a", None, error="boom")]) == []  # replay: none
    assert next_wave(left_to_the_caller, vote, [said("a", None, error="boom")], fallback=1) == ["b"]
    assert next_wave(chose_a, vote, [said("a", None, error="boom")]) == ["b"]
    assert next_wave(chose_a, vote, [said("a", None, error="boom"), said("b", None, error="timeout")]) == ["c"]
    three_failed = [said("a", None, error="x"), said("b", None, error="y"), said("c", None, error="z")]
    assert next_wave(chose_a, vote, three_failed) == []  # every agent tried
    capped = chose_a.model_copy(update={"fallback": 1})
    assert next_wave(capped, vote, [said("a", None, error="boom"), said("b", None, error="timeout")]) == []
    assert next_wave(chose_a.model_copy(update={"fallback": 0}), vote, [said("a", None, error="boom")]) == []
    # an agent that answered (even with nothing, as replayed logs without predictions do) is no failure
    assert next_wave(chose_a, vote, [said("a", None)]) == []
    assert next_wave(chose_a, vote, [said("a", "Paris")]) == []


class ChoosesFailing(BaseRouter):
    name = "chooses-failing"

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return RoutingDecision(router=self.name, probs={"broken": 0.7, "spare": 0.3}, selected=["broken"])


def test_a_failing_chosen_agent_does_not_fail_the_question() -> None:
    from agentroute import agent

    @agent(name="broken")
    def broken(q: Query) -> str:
        raise ConnectionError("endpoint down")

    @agent(name="spare")
    def spare(q: Query) -> str:
        return "42"

    with AgentRoute([broken, spare], ChoosesFailing()) as ar:
        answer = ar.ask("What is 40 plus 2?")
        assert answer.text == "42" and answer.error is None
        assert [(r.agent, r.ok) for r in answer.results] == [("broken", False), ("spare", True)]
        assert answer.decision.selected == ["broken"]  # the decision says what the router chose
        app = ar.as_graph().compile()
        assert app.invoke({"question": "And 41 plus 1?"})["answer"] == "42"
    with AgentRoute([broken, spare], ChoosesFailing(), fallback=0) as strict:
        answer = strict.ask("What is 40 plus 2?")
        assert answer.text == "" and [r.agent for r in answer.results] == ["broken"] and answer.error
