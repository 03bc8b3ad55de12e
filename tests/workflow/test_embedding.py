"""agentroute inside a host LangGraph app: as a node and as a subgraph, sync and async, with the host
choosing its own keys; progress events on the custom stream and in ``astream_events``."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph

from agentroute import AgentRoute, Query, RouteKeys, agent
from agentroute.routers.base import BaseRouter
from agentroute.types import QueryGraph, RoutingDecision


class Fixed(BaseRouter):
    name = "fixed"

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return RoutingDecision(router=self.name, probs={"add": 0.7, "echo": 0.3}, selected=["add", "echo"])


def router_app() -> AgentRoute:
    @agent(name="add", description="adds numbers")
    def add(q: Query) -> str:
        return str(sum(int(t) for t in q.text.replace("?", "").split() if t.isdigit()))

    @agent(name="echo", description="repeats the question")
    async def echo(q: Query) -> str:
        return q.text

    return AgentRoute([add, echo], Fixed())


class Chat(TypedDict, total=False):
    """A host state with nothing in common with agentroute's keys."""

    text: str
    said: str
    why: RoutingDecision
    runs: list[Any]
    turns: int


def host(node: Any) -> Any:
    def count(state: Chat) -> dict[str, Any]:
        return {"turns": state.get("turns", 0) + 1}

    g = StateGraph(Chat)
    g.add_node("count", count)
    g.add_node("agentroute", node)
    g.add_edge(START, "count")
    g.add_edge("count", "agentroute")
    g.add_edge("agentroute", END)
    return g.compile()


def forms(ar: AgentRoute) -> dict[str, Any]:
    return {
        "node": ar.as_node("text", "said", decision_key="why", results_key="runs"),
        "subgraph": ar.as_subgraph("text", "said", decision_key="why", results_key="runs", support_key="support"),
    }


@pytest.mark.parametrize("form", ["node", "subgraph"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_host_sees_answer_decision_and_results_under_its_keys(form: str, mode: str) -> None:
    app = host(forms(router_app())[form])
    state = {"text": "What is 3 plus 4?", "turns": 0}
    final = app.invoke(state) if mode == "sync" else asyncio.run(app.ainvoke(state))
    assert final["said"] == "7" and final["turns"] == 1
    assert final["why"].selected == ["add", "echo"]
    assert {r.agent: r.answer for r in final["runs"]} == {"add": "7", "echo": "What is 3 plus 4?"}
    assert not {"question", "query", "graph", "answer", "decision", "results"} & set(final)


def test_as_graph_is_uncompiled_and_declares_its_schemas() -> None:
    graph = router_app().as_graph()
    assert isinstance(graph, StateGraph)
    app = graph.compile()
    assert set(app.get_input_jsonschema()["properties"]) == {"question"}
    assert set(app.get_output_jsonschema()["properties"]) == {"answer", "decision", "results", "support"}
    out = app.invoke({"question": "What is 1 plus 1?"})
    assert set(out) == {"answer", "decision", "results", "support"}  # no query graph, no embeddings


def test_clashing_keys_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="distinct"):
        RouteKeys(question="graph")
    with pytest.raises(ValueError, match="distinct"):
        router_app().as_subgraph("text", "text")


async def test_events_in_astream_events_and_on_the_custom_stream_in_order() -> None:
    app = host(router_app().as_node("text", "said"))
    seen = [
        e["data"]
        async for e in app.astream_events({"text": "What is 3 plus 4?"}, version="v2")
        if e["event"] == "on_custom_event" and e["name"] == "agentroute"
    ]
    streamed = [c async for c in app.astream({"text": "What is 3 plus 4?"}, stream_mode="custom")]
    for events in (seen, streamed):
        kinds = [e["event"] for e in events]
        assert kinds[0] == "decision" and kinds[-1] == "answer" and len(kinds) == 6
        for name in ("add", "echo"):
            assert [e["event"] for e in events if e.get("agent") == name] == ["agent_start", "agent_finish"]
        assert events[-1]["answer"] == "7"


def test_ask_reports_events_as_they_happen() -> None:
    seen: list[str] = []
    answer = router_app().ask("What is 3 plus 4?", on_event=lambda e: seen.append(e["event"]))
    assert answer.text == "7" and seen[0] == "decision" and seen[-1] == "answer"
    assert sorted(seen[1:-1]) == ["agent_finish", "agent_finish", "agent_start", "agent_start"]


def test_a_thread_that_answers_two_questions_keeps_them_apart() -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    app = router_app().as_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "chat"}}
    first = app.invoke({"question": "What is 3 plus 4?"}, config)
    second = app.invoke({"question": "What is 10 plus 5?"}, config)
    assert (first["answer"], second["answer"]) == ("7", "15")
    assert {r.agent: r.answer for r in second["results"]} == {"add": "15", "echo": "What is 10 plus 5?"}


STRICT_HOST = """
from typing import Any, TypedDict
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from agentroute import AgentResult, AgentRoute, RoutingDecision, agent

@agent(name="echo")
def echo(q):
    return q.text

class Typed(TypedDict, total=False):
    user_message: str
    bot_answer: str
    routing: RoutingDecision
    agent_runs: list[AgentResult]

class Untyped(Typed, total=False):
    routing: Any

with AgentRoute([echo], "all") as ar:
    for state in (Typed, Untyped):
        g = StateGraph(state)
        node = ar.as_node("user_message", "bot_answer", decision_key="routing", results_key="agent_runs")
        g.add_node("agentroute", node)
        g.add_edge(START, "agentroute")
        g.add_edge("agentroute", END)
        app = g.compile(checkpointer=InMemorySaver())
        cfg = {"configurable": {"thread_id": "t"}}
        app.invoke({"user_message": "hi"}, cfg)
        values = app.get_state(cfg).values
        print(type(values["routing"]).__name__, type(values["agent_runs"][0]).__name__)
"""


def test_a_strict_checkpointer_restores_the_types_a_host_state_declares() -> None:
    """The README's claim: under LANGGRAPH_STRICT_MSGPACK a host state that declares agentroute's types gets
    them back from its checkpoints; one that types the key ``Any`` gets a plain dict."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    env = {
        **os.environ,
        "LANGGRAPH_STRICT_MSGPACK": "true",
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run([sys.executable, "-c", STRICT_HOST], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines() == ["RoutingDecision AgentResult", "dict AgentResult"]
