"""Human approval: the run pauses after routing with the decision on show; accept, edit and reject are honoured."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agentroute import AgentRoute, Query, agent
from agentroute.approval import review
from agentroute.routers.base import BaseRouter
from agentroute.types import QueryGraph, RoutingDecision


class Fixed(BaseRouter):
    name = "fixed"

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return RoutingDecision(router=self.name, probs={"a": 0.6, "b": 0.4}, selected=["a"], rationale="a knows")


def paused(calls: Counter[str]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    def make(name: str, text: str) -> Any:
        def fn(q: Query) -> str:
            calls[name] += 1
            return text

        return agent(name=name)(fn)

    ar = AgentRoute([make("a", "alpha"), make("b", "beta")], Fixed())
    app = ar.as_graph(approval=True).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "review"}}
    first = app.invoke({"question": "Which letter?"}, config)
    return app, config, first


@pytest.mark.parametrize(
    ("reply", "answer", "ran"),
    [
        ("accept", "alpha", ["a"]),
        ({"action": "edit", "agents": ["b"]}, "beta", ["b"]),
        (["a", "b"], "alpha", ["a", "b"]),
        ({"action": "reject", "reason": "too costly"}, "", []),
    ],
)
def test_pause_show_and_resume(reply: Any, answer: str, ran: list[str]) -> None:
    calls: Counter[str] = Counter()
    app, config, first = paused(calls)
    (request,) = first["__interrupt__"]
    assert request.value["selected"] == ["a"] and request.value["probs"] == {"a": 0.6, "b": 0.4}
    assert request.value["rationale"] == "a knows" and request.value["available"] == ["a", "b"]
    assert not calls  # nothing ran before the reviewer answered
    final = app.invoke(Command(resume=reply), config)
    assert final["answer"] == answer
    assert sorted(calls) == ran and all(n == 1 for n in calls.values())
    assert sorted(final["decision"].selected) == ran


def test_bad_replies_are_clear_errors() -> None:
    decision = RoutingDecision(router="r", probs={"a": 1.0}, selected=["a"])
    with pytest.raises(ValueError, match="unknown agents"):
        review(decision, {"action": "edit", "agents": ["zz"]}, ["a"])
    with pytest.raises(ValueError, match="approval reply"):
        review(decision, "maybe", ["a"])
    with pytest.raises(ValueError, match="non-empty"):
        review(decision, {"action": "edit", "agents": []}, ["a"])


def test_a_bad_reply_in_the_graph_asks_again_and_the_next_reply_is_used() -> None:
    calls: Counter[str] = Counter()
    app, config, _ = paused(calls)
    for bad, error in ((["zz"], "unknown agents"), ("maybe", "approval reply")):
        again = app.invoke(Command(resume=bad), config)
        (request,) = again["__interrupt__"]
        assert error in request.value["error"] and request.value["selected"] == ["a"]
        assert not calls  # still nothing ran
    final = app.invoke(Command(resume=["b"]), config)
    assert final["answer"] == "beta" and dict(calls) == {"b": 1}


def test_a_reviewed_selection_never_falls_back_to_agents_the_reviewer_did_not_approve() -> None:
    decision = RoutingDecision(router="r", probs={"a": 0.6, "b": 0.4}, selected=["a"])
    assert decision.fallback is None  # left to the pipeline
    action, edited = review(decision, {"action": "edit", "agents": ["b"]}, ["a", "b"])
    assert (action, edited.selected, edited.fallback) == ("edit", ["b"], 0)
    assert review(decision, "accept", ["a", "b"])[1].fallback == 0


def test_approval_inside_a_host_graph_pauses_the_host() -> None:
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    class Host(TypedDict, total=False):
        ask: str
        reply: str
        runs: list[Any]

    calls: Counter[str] = Counter()

    @agent(name="a")
    def a(q: Query) -> str:
        calls["a"] += 1
        return "alpha"

    @agent(name="b")
    def b(q: Query) -> str:
        calls["b"] += 1
        return "beta"

    ar = AgentRoute([a, b], Fixed())
    host = StateGraph(Host)
    host.add_node("agentroute", ar.as_subgraph("ask", "reply", results_key="runs", approval=True))
    host.add_edge(START, "agentroute")
    host.add_edge("agentroute", END)
    app = host.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "host"}}
    first = app.invoke({"ask": "Which letter?"}, config)
    assert first["__interrupt__"][0].value["selected"] == ["a"] and not calls
    final = app.invoke(Command(resume=["b"]), config)
    assert final["reply"] == "beta" and [r.agent for r in final["runs"]] == ["b"] and dict(calls) == {"b": 1}
