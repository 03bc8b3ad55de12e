"""A host chat app with its own state that embeds agentroute as a node; shared by the durability tests.

Run as a script it is the process the tests kill: ``python host_app.py sqlite|postgres TARGET WORKDIR``
starts one question on thread ``t1`` and never finishes by itself (the ``slow`` agent waits for a flag file).
Every agent call and every routing appends a line to ``WORKDIR/calls.log``, so a test can count them.
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from agentroute import AgentRoute, Query, agent
from agentroute.routers.base import BaseRouter
from agentroute.types import QueryGraph, RoutingDecision

THREAD = {"configurable": {"thread_id": "t1"}}


class Chat(TypedDict, total=False):
    """The host's own state: nothing in common with agentroute's keys."""

    user_message: str
    reply: str
    routing: RoutingDecision
    agent_runs: list[Any]


class LoggedRouter(BaseRouter):
    """Selects fixed agents (optionally in early-stopping waves) and logs every routing."""

    name = "logged"

    def __init__(self, log: Path, selected: list[str], probs: dict[str, float], early_stop: bool = False) -> None:
        self.log, self.selected, self.probs, self.early_stop = log, selected, probs, early_stop

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        note(self.log, "route")
        return RoutingDecision(router=self.name, probs=self.probs, selected=self.selected, early_stop=self.early_stop)


def note(log: Path, line: str) -> None:
    with open(log, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def calls(workdir: Path) -> list[str]:
    log = workdir / "calls.log"
    return log.read_text(encoding="utf-8").split() if log.exists() else []


def make_agents(workdir: Path, answers: dict[str, str], slow: set[str]) -> list[Any]:
    """Agents that log each call; those in ``slow`` block until ``WORKDIR/release`` exists."""
    log, release = workdir / "calls.log", workdir / "release"
    out = []
    for name, text in answers.items():

        async def fn(q: Query, name: str = name, text: str = text) -> str:
            note(log, name)
            while name in slow and not release.exists():
                await asyncio.sleep(0.02)
            return text

        out.append(agent(name=name, description=f"answers {text}")(fn))
    return out


def scenario(workdir: Path, early_stop: bool) -> AgentRoute:
    """Plain: a and b answer at once, c blocks. Early stop: wave 1 is [a, b] (they could settle the vote);
    they disagree, so wave 2 is [c], which blocks."""
    log = workdir / "calls.log"
    if early_stop:
        router = LoggedRouter(log, ["a", "b", "c"], {"a": 0.4, "b": 0.35, "c": 0.25}, early_stop=True)
        return AgentRoute(make_agents(workdir, {"a": "4", "b": "5", "c": "5"}, slow={"c"}), router)
    router = LoggedRouter(log, ["a", "b", "c"], {"a": 0.4, "b": 0.35, "c": 0.25})
    return AgentRoute(make_agents(workdir, {"a": "4", "b": "4", "c": "5"}, slow={"c"}), router)


def host_graph(ar: AgentRoute) -> StateGraph:
    def polite(state: Chat) -> dict[str, Any]:
        return {"reply": f"The answer is {state['reply'] or 'unknown'}."}

    app = StateGraph(Chat)
    app.add_node("agentroute", ar.as_node("user_message", "reply", decision_key="routing", results_key="agent_runs"))
    app.add_node("polite", polite)
    app.add_edge(START, "agentroute")
    app.add_edge("agentroute", "polite")
    app.add_edge("polite", END)
    return app


@contextmanager
def saver(kind: str, target: str) -> Any:
    """A synchronous checkpointer: SQLite file or PostgreSQL URI (tables created on first use)."""
    if kind == "sqlite":
        from langgraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(target) as cp:
            yield cp
    else:
        from langgraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(target) as cp:
            cp.setup()
            yield cp


if __name__ == "__main__":
    kind, target, workdir, mode = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    with saver(kind, target) as cp:
        graph = host_graph(scenario(workdir, early_stop=mode == "early-stop")).compile(checkpointer=cp)
        graph.invoke({"user_message": "What is 2 + 2?"}, THREAD, durability="sync")
