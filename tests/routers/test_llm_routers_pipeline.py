"""The LLM routers inside the real LangGraph pipeline (scripted model, real agents, real graph)."""

from __future__ import annotations

from langgraph.checkpoint.memory import MemorySaver

from agentroute.agents.base import agent
from agentroute.routers.multiround import MultiRoundRouter
from agentroute.routers.reasoning import OUT_OF_SCOPE, ReasoningRouter
from agentroute.testing.scripted import ScriptedChatModel
from agentroute.types import Query
from agentroute.workflow import AgentRoute, answer_from

asked: list[tuple[str, str]] = []


@agent(name="math", description="Does arithmetic.")
def math_agent(q: Query) -> str:
    asked.append(("math", q.text))
    return "84" if "12" in q.text else "unknown"


@agent(name="trivia", description="Knows facts about books.")
def trivia_agent(q: Query) -> str:
    asked.append(("trivia", q.text))
    return "Frank Herbert"


def test_reasoning_router_runs_the_chosen_agent_and_keeps_the_rationale() -> None:
    llm = ScriptedChatModel(["<Reason>Arithmetic.</Reason>\n<ID>A1</ID>"])
    with_rationale = AgentRoute([math_agent, trivia_agent], ReasoningRouter(llm)).ask("What is 12 times 7?")
    assert with_rationale.text == "84"
    assert [r.agent for r in with_rationale.results] == ["math"]
    assert with_rationale.decision.rationale == "Arithmetic."


def test_reasoning_oos_answers_out_of_scope_without_calling_agents() -> None:
    asked.clear()
    llm = ScriptedChatModel(["<Reason>Weather is not covered.</Reason><ID>oos</ID>"])
    answer = AgentRoute([math_agent, trivia_agent], ReasoningRouter(llm)).ask("Will it rain tomorrow?")
    assert answer.text == OUT_OF_SCOPE and answer.results == [] and asked == []


async def test_multiround_loops_route_and_run_agent_inside_one_graph() -> None:
    asked.clear()
    llm = ScriptedChatModel(
        [
            "<think>Who wrote it?</think><search> trivia: Who wrote Dune? </search>",
            "<think>Now the product.</think><search> math: 12 * 7",
            "<think>Both known.</think><answer>Frank Herbert; 84</answer>",
        ]
    )
    ar = AgentRoute([math_agent, trivia_agent], MultiRoundRouter(llm))
    compiled = ar.as_graph().compile(checkpointer=MemorySaver())
    config = {"configurable": {"thread_id": "t1"}}
    nodes = []
    async for chunk in compiled.astream({"question": "Who wrote Dune, and what is 12*7?"}, config):
        nodes += list(chunk)
    assert nodes == ["build_graph", "route", "run_agent", "route", "run_agent", "route", "aggregate"]
    assert asked == [("trivia", "Who wrote Dune?"), ("math", "12 * 7")]  # sub-questions, not the question
    state = (await compiled.aget_state(config)).values
    answer = answer_from(state)
    assert answer.text == "Frank Herbert; 84"
    assert [r.agent for r in answer.results] == ["math", "trivia"]
    assert answer.decision.selected == ["trivia", "math"]
    assert answer.decision.usage is not None and answer.decision.usage.calls == 3
    assert [s["step"] for s in answer.decision.trajectory or []].count("information") == 2
    assert state["episode"].done


def test_multiround_failure_ends_gracefully_in_the_pipeline() -> None:
    llm = ScriptedChatModel(["no tags at all", "still none"])
    answer = AgentRoute([math_agent, trivia_agent], MultiRoundRouter(llm)).ask("What is 12 * 7?")
    assert answer.text.startswith("No answer: the multi-round router could not finish")
    assert answer.results == []


def test_multiround_under_a_synchronous_invoke() -> None:
    asked.clear()
    llm = ScriptedChatModel(["<think>t</think><search> math: 12 * 7", "<think>t</think><answer>84</answer>"])
    out = (
        AgentRoute([math_agent, trivia_agent], MultiRoundRouter(llm)).as_graph().compile().invoke({"question": "12*7?"})
    )
    assert out["answer"] == "84" and asked == [("math", "12 * 7")]
    assert "episode" not in out  # private to the router graph


def test_reasoning_router_under_a_synchronous_invoke() -> None:
    llm = ScriptedChatModel(["<Reason>facts</Reason><ID>A2</ID>"])
    out = (
        AgentRoute([math_agent, trivia_agent], ReasoningRouter(llm)).as_graph().compile().invoke({"question": "Dune?"})
    )
    assert out["answer"] == "Frank Herbert" and out["decision"].rationale == "facts"


async def test_a_thread_answering_two_questions_starts_each_episode_afresh() -> None:
    llm = ScriptedChatModel(
        [
            "<think>t</think><search> math: 12 * 7",
            "<think>t</think><answer>84</answer>",
            "<think>t</think><search> trivia: Dune?",
            "<think>t</think><answer>Frank Herbert</answer>",
        ]
    )
    compiled = (
        AgentRoute([math_agent, trivia_agent], MultiRoundRouter(llm)).as_graph().compile(checkpointer=MemorySaver())
    )
    config = {"configurable": {"thread_id": "same"}}
    first = await compiled.ainvoke({"question": "12*7?"}, config)
    second = await compiled.ainvoke({"question": "Who wrote Dune?"}, config)
    assert (first["answer"], second["answer"]) == ("84", "Frank Herbert")
    assert second["decision"].selected == ["trivia"] and [r.agent for r in second["results"]] == ["trivia"]
    assert llm.calls[2][0][-1]["content"] == "Question: Who wrote Dune?"  # no trace of the first episode
