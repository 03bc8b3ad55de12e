"""The refining aggregator: prompt format, short answers, declines, pass-through, fallback, pipeline use."""

import asyncio

from agentroute.agents import agent
from agentroute.aggregate import make_aggregator
from agentroute.llm import LLMError
from agentroute.refine import DECLINE, RefiningAggregator
from agentroute.testing.scripted import ScriptedChatModel
from agentroute.types import AgentResult, Query, RoutingDecision
from agentroute.workflow import AgentRoute

Q = Query(id="q", text="Where is the Eiffel Tower?", gold=["Paris"])
D = RoutingDecision(router="t", probs={"a": 0.6, "b": 0.4}, selected=["a", "b"])
TWO = [AgentResult(agent="a", answer="Paris, France"), AgentResult(agent="b", answer="In Paris")]


def test_prompt_names_each_agent_and_short_answer_is_extracted():
    model = ScriptedChatModel(["Both agree on the city.\nAnswer: Paris"], prices={"scripted": [1e6, 1e6]})
    refine = make_aggregator("refine", model=model)
    answer = refine.aggregate(Q, D, TWO)
    assert answer.text == "Paris"
    assert answer.usage.calls == 1 and answer.cost == answer.usage.total
    messages, params = model.calls[0]
    user = messages[1]["content"]
    assert "### Answer from a\nParis, France" in user and "### Answer from b\nIn Paris" in user
    assert "Paris" not in messages[0]["content"] and "gold" not in user.lower()
    assert "state explicitly where the answers conflict" in messages[0]["content"]
    assert params["temperature"] == 0.0


def test_long_mode_keeps_the_merged_text():
    model = ScriptedChatModel(["The tower is in Paris, France (one agent gave only the city)."])
    answer = RefiningAggregator(model, short_answer=False).aggregate(Q, D, TWO)
    assert answer.text == "The tower is in Paris, France (one agent gave only the city)."


def test_declines_without_a_call_when_every_agent_failed():
    model = ScriptedChatModel([])
    failed = [AgentResult(agent="a", error="timeout"), AgentResult(agent="b", answer="")]
    assert RefiningAggregator(model).aggregate(Q, D, failed).text == DECLINE
    assert model.calls == []


def test_agreeing_answers_pass_through_without_a_call():
    model = ScriptedChatModel([])
    same = [AgentResult(agent="a", answer="Paris"), AgentResult(agent="b", answer="paris.")]
    assert RefiningAggregator(model).aggregate(Q, D, same).text == "Paris"
    assert model.calls == []


def test_failed_refine_falls_back_to_the_vote_and_says_so():
    model = ScriptedChatModel([LLMError("m at http://x: HTTP 500 after 5 attempts")])
    answer = asyncio.run(RefiningAggregator(model).aaggregate(Q, D, TWO))
    assert answer.text == "Paris, France"
    assert "refine failed (m at http://x: HTTP 500 after 5 attempts); answered by weighted vote" in (
        answer.decision.rationale
    )


@agent(name="a")
def a(q: Query) -> str:
    return "Paris, France"


@agent(name="b")
def b(q: Query) -> str:
    return "in Paris"


def test_refine_in_the_langgraph_pipeline():
    model = ScriptedChatModel(lambda msgs, params: "Answer: Paris", prices={"scripted": [1e6, 1e6]})
    ar = AgentRoute([a, b], "all", aggregator=make_aggregator("refine", model=model))
    answer = ar.ask(Q)
    assert answer.text == "Paris" and {r.agent for r in answer.results} == {"a", "b"}
    assert "Paris" not in model.calls[0][0][0]["content"]  # gold never reaches the refiner
    # what the refiner spent reaches the Answer through the graph (it was dropped there)
    assert answer.usage is not None and answer.usage.calls == 1 and answer.cost == answer.usage.total > 0
    streamed = asyncio.run(ar.aask(Q, on_event=lambda event: None))
    assert streamed.usage is not None and streamed.usage.calls == 1


def test_in_the_pipeline_a_failed_refine_says_so_and_a_decline_is_an_error():
    @agent(name="down")
    def down(q: Query) -> str:
        raise ConnectionError("offline")

    failing = ScriptedChatModel([LLMError("m at http://x: HTTP 500 after 5 attempts")])
    with AgentRoute([a, b], "all", aggregator=RefiningAggregator(failing)) as ar:
        answer = ar.ask(Q)
    assert answer.text == "Paris, France" and "refine failed" in (answer.decision.rationale or "")
    with AgentRoute([down], "all", aggregator=RefiningAggregator(ScriptedChatModel([]))) as ar:
        declined = ar.ask(Q)
    assert declined.text == DECLINE and declined.error == "no agent answered (down: ConnectionError: offline)"
