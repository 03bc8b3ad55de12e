"""``Node`` runs its own sync or async body in place (no thread hop), and the router graph built from such
nodes still answers and reports its events the same way under ``invoke``, ``ainvoke`` and ``aask``."""

from __future__ import annotations

import threading
from typing import Any, TypedDict

from langchain_core.callbacks import AsyncCallbackHandler
from langgraph.graph import END, START, StateGraph

from agentroute import AgentRoute, Query, agent
from agentroute.nodes import Node
from agentroute.routers.base import BaseRouter
from agentroute.types import QueryGraph, RoutingDecision


class S(TypedDict, total=False):
    seen: list[str]


def graph_of(node: Node) -> Any:
    g = StateGraph(S)
    g.add_node("step", node)
    g.add_edge(START, "step")
    g.add_edge("step", END)
    return g.compile()


def test_sync_body_under_invoke_async_body_under_ainvoke() -> None:
    import asyncio

    async def abody(state: dict[str, Any]) -> dict[str, Any]:
        return {"seen": ["async"]}

    app = graph_of(Node("step", lambda s: {"seen": ["sync"]}, abody))
    assert app.invoke({})["seen"] == ["sync"]
    assert asyncio.run(app.ainvoke({}))["seen"] == ["async"]


async def test_a_sync_only_node_runs_on_the_event_loop_thread_under_ainvoke() -> None:
    loop_thread = threading.get_ident()
    app = graph_of(Node("step", lambda s: {"seen": [str(threading.get_ident())]}))
    assert (await app.ainvoke({}))["seen"] == [str(loop_thread)]


def app(router: Any = "all") -> AgentRoute:
    @agent(name="add", description="adds numbers")
    async def add(q: Query) -> str:
        return str(sum(int(t) for t in q.text.replace("?", "").split() if t.isdigit()))

    @agent(name="echo", description="repeats the question")
    def echo(q: Query) -> str:
        return q.text

    return AgentRoute([add, echo], router)


async def test_aask_with_and_without_events_gives_the_same_answer() -> None:
    with app() as ar:
        events: list[str] = []
        quiet = await ar.aask("What is 3 plus 4?")
        watched = await ar.aask("What is 3 plus 4?", on_event=lambda e: events.append(e["event"]))
    assert quiet.text == watched.text == "7"
    assert [r.answer for r in quiet.results] == [r.answer for r in watched.results]
    assert quiet.support == watched.support and quiet.decision == watched.decision
    assert events[0] == "decision" and events[-1] == "answer" and len(events) == 6


async def test_a_callback_handler_passed_in_config_sees_every_event() -> None:
    class Collect(AsyncCallbackHandler):
        def __init__(self) -> None:
            self.events: list[str] = []

        async def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
            self.events.append(data["event"])

    handler = Collect()
    with app() as ar:
        out = await ar.compiled.ainvoke({"question": "What is 3 plus 4?"}, {"callbacks": [handler]})
    assert out["answer"] == "7"
    assert handler.events[0] == "decision" and handler.events[-1] == "answer" and len(handler.events) == 6


class ThreadNoting(BaseRouter):
    """Routes to every agent and notes which thread ``route`` ran on."""

    name = "noting"

    def __init__(self) -> None:
        self.threads: list[int] = []

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        self.threads.append(threading.get_ident())
        names = graph.agent_names
        return RoutingDecision(router=self.name, probs={a: 1 / len(names) for a in names}, selected=list(names))


class QuickNoting(ThreadNoting):
    nonblocking = True


async def test_only_a_nonblocking_router_is_called_on_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    for router, on_loop in ((ThreadNoting(), False), (QuickNoting(), True)):
        with app(router) as ar:
            assert (await ar.aask("What is 3 plus 4?")).text == "7"
        assert (router.threads == [loop_thread]) is on_loop


async def test_synchronous_calls_inside_a_running_event_loop_still_answer() -> None:
    """As in a notebook cell, or an async handler calling a synchronous API: ``ask`` and the graph's
    ``invoke`` (whose single-task steps run on the caller's thread, where the loop runs) still answer."""
    with app() as ar:
        assert ar.ask("1 2 3").text in {"6", "1 2 3"}
        assert [a.text for a in ar.ask_many(["4 5"])][0] in {"9", "4 5"}
        out = ar.as_graph().compile().invoke({"question": "7 8"})
        assert out["answer"] in {"15", "7 8"} and len(out["results"]) == 2
    with app("best-single") as ar:  # one agent: the agent's own step runs on the caller's thread too
        out = ar.as_graph().compile().invoke({"question": "7 8"})
        assert len(out["results"]) == 1 and out["results"][0].error is None
