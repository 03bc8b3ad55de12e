from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph

from agentroute import Agent, AgentRoute, Query, agent
from agentroute.pipeline import as_query
from agentroute.routers.base import BaseRouter, normalise
from agentroute.types import QueryGraph, RoutingDecision


class PickAll(BaseRouter):
    name = "pick-all"

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        probs = normalise({a: 1.0 for a in graph.agent_names})
        return RoutingDecision(router=self.name, probs=probs, selected=graph.agent_names)


def meeters(n: int, *, sync: bool) -> list[Agent]:
    """``n`` agents that each wait (up to 5 s) until all ``n`` have started on the question: they answer
    "met" only if they ran at the same time, "alone" if they ran one after another."""
    arrived: Counter[str] = Counter()
    lock = threading.Lock()

    def arrive(q: Query) -> float:
        with lock:
            arrived[q.text] += 1
        return time.monotonic() + 5.0

    def everyone_here(q: Query) -> bool:
        with lock:
            return arrived[q.text] >= n

    out = []
    for i in range(n):
        if sync:

            def fn(q: Query) -> str:
                deadline = arrive(q)
                while not everyone_here(q) and time.monotonic() < deadline:
                    time.sleep(0.01)
                return "met" if everyone_here(q) else "alone"
        else:

            async def fn(q: Query) -> str:
                deadline = arrive(q)
                while not everyone_here(q) and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                return "met" if everyone_here(q) else "alone"

        out.append(agent(name=f"meeter-{i}", description="waits for the others")(fn))
    return out


@pytest.mark.parametrize("sync", [False, True])
def test_fan_out_runs_agents_concurrently(sync: bool) -> None:
    n = 5
    answer = AgentRoute(meeters(n, sync=sync), PickAll()).ask("Who is here?")
    assert sorted(r.agent for r in answer.results) == [f"meeter-{i}" for i in range(n)]
    assert [r.answer for r in answer.results] == ["met"] * n, "the agents did not run at the same time"
    assert answer.text == "met"


def test_raising_agent_does_not_fail_the_question() -> None:
    @agent(name="boom")
    def boom(q: Query) -> str:
        raise RuntimeError("tool crashed")

    @agent(name="fine")
    def fine(q: Query) -> str:
        return "42"

    answer = AgentRoute([boom, fine], PickAll()).ask("What is 6 * 7?")
    assert answer.text == "42"
    errors = {r.agent: r.error for r in answer.results}
    assert errors["fine"] is None
    assert "RuntimeError: tool crashed" in errors["boom"]


def test_timeout_becomes_an_error_result() -> None:
    @agent(name="slow")
    async def slow(q: Query) -> str:
        await asyncio.sleep(5)
        return "late"

    @agent(name="fast")
    def fast(q: Query) -> str:
        return "early"

    start = time.perf_counter()
    answer = AgentRoute([slow, fast], PickAll(), timeout_s=0.2).ask("hurry")
    assert time.perf_counter() - start < 2
    assert answer.text == "early"
    assert "timeout" in {r.agent: r.error for r in answer.results}["slow"]


def test_retries_recover_a_flaky_agent() -> None:
    calls = {"n": 0}

    @agent(name="flaky")
    def flaky(q: Query) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("first call fails")
        return "ok"

    assert AgentRoute([flaky], PickAll(), retries=0).ask("x").text == ""
    calls["n"] = 0
    assert AgentRoute([flaky], PickAll(), retries=1).ask("x").text == "ok"


CAPITALS = {
    "France": "Paris",
    "Spain": "Madrid",
    "Italy": "Rome",
    "Peru": "Lima",
    "Chile": "Santiago",
    "Japan": "Tokyo",
    "Kenya": "Nairobi",
    "Norway": "Oslo",
    "Egypt": "Cairo",
    "Nepal": "Kathmandu",
}


def arithmetic_and_facts() -> tuple[list[Agent], list[Query]]:
    @agent(name="math", description="Does arithmetic", skills=["arithmetic", "numbers"])
    def math(q: Query) -> str:
        a, b = [int(t) for t in q.text.replace("?", "").split() if t.isdigit()][:2]
        return str(a + b)

    @agent(name="facts", description="Knows capitals", skills=["geography"])
    def facts(q: Query) -> str:
        return next((cap for country, cap in CAPITALS.items() if country in q.text), "unknown")

    train = [Query(id=f"m{i}", text=f"What is {i} plus {i + 3}?", gold=[str(2 * i + 3)]) for i in range(10)]
    train += [Query(id=f"f{c}", text=f"What is the capital of {c}?", gold=[cap]) for c, cap in CAPITALS.items()]
    return [math, facts], train


def test_profile_then_fit_routes_to_the_agent_that_scored() -> None:
    agents, train = arithmetic_and_facts()
    ar = AgentRoute(agents, "knn", k=1)
    runs = ar.profile(train)
    assert len(runs) == len(train)
    assert runs[0].agents["math"].score == 1.0 and runs[0].agents["facts"].score == 0.0
    assert ar.store.counts()["PERFORMED"] == 2 * len(train)
    ar.fit()
    answer = ar.ask("What is 100 plus 23?")
    assert answer.decision.selected == ["math"]
    assert answer.text == "123"
    answer = ar.ask("What is the capital of France?")
    assert answer.decision.selected == ["facts"]
    assert answer.text == "Paris"


def test_feedback_on_answers_teaches_the_router() -> None:
    """``learn`` records how the agents an answer called did; a fit on that history routes by it."""
    agents, train = arithmetic_and_facts()
    with AgentRoute(agents, "all") as ar:
        for q in train:
            answer = ar.ask(q.text)
            run = ar.learn(q.text, answer, gold=q.gold)
            assert run.qid == as_query(q.text).id and set(run.agents) == {"math", "facts"}
        assert ar.store.counts()["PERFORMED"] == 2 * len(train)
        graded = ar.ask("What is 7 plus 1?")
        run = ar.learn("What is 7 plus 1?", graded, scores={"math": 1.0})
        assert run.agents["math"].score == 1.0 and run.agents["facts"].score is None
        # feedback again keeps what it does not replace: the gold, and scores given before
        ar.learn("What is 7 plus 1?", graded, gold="8")
        run = ar.learn("What is 7 plus 1?", graded, scores={"math": 0.5})
        assert run.gold == ["8"] and run.agents["math"].score == 0.5 and run.agents["facts"].score == 0.0
        stored = {r.qid: r for r in ar.store.history()}[run.qid]
        assert stored.gold == ["8"] and stored.scores() == {"math": 0.5, "facts": 0.0}
        with pytest.raises(ValueError, match="either gold"):
            ar.learn("What is 7 plus 1?", graded)
        with pytest.raises(ValueError, match="did not call: nobody"):
            ar.learn("What is 7 plus 1?", graded, scores={"nobody": 1.0})
        learned = AgentRoute(agents, "knn", k=1, store=ar.store).fit()  # the store's history, as recorded
        assert learned.ask("What is 100 plus 23?").decision.selected == ["math"]
        assert learned.ask("What is the capital of France?").decision.selected == ["facts"]


def test_as_node_inside_a_host_graph() -> None:
    agents, train = arithmetic_and_facts()
    ar = AgentRoute(agents, "knn", k=1)
    ar.profile(train)
    ar.fit()

    class Host(TypedDict, total=False):
        question: str
        answer: str
        shouted: str

    def shout(state: Host) -> dict[str, Any]:
        return {"shouted": state["answer"].upper() + "!"}

    host = StateGraph(Host)
    host.add_node("agentroute", ar.as_node(input_key="question", output_key="answer"))
    host.add_node("shout", shout)
    host.add_edge(START, "agentroute")
    host.add_edge("agentroute", "shout")
    host.add_edge("shout", END)
    final = asyncio.run(host.compile().ainvoke({"question": "What is the capital of France?"}))
    assert final["shouted"] == "PARIS!"


def test_as_graph_is_uncompiled_and_has_the_pipeline_nodes() -> None:
    agents, _ = arithmetic_and_facts()
    graph = AgentRoute(agents, PickAll()).as_graph()
    assert isinstance(graph, StateGraph)
    assert {"build_graph", "route", "run_agent", "settle", "aggregate"} <= set(graph.nodes)


def test_bad_question_is_a_clear_error() -> None:
    agents, _ = arithmetic_and_facts()
    with pytest.raises(ValueError, match="non-empty"):
        AgentRoute(agents, PickAll()).ask("   ")


def test_fit_skips_history_about_agents_not_in_the_pool_and_says_when_none_is_left() -> None:
    from agentroute import AgentRoute, agent
    from agentroute.types import AgentRecord, RunRecord

    @agent(name="adder")
    def adder(q):
        return "2"

    @agent(name="backup")
    def backup(q):
        return "3"

    def row(qid: str, scores: dict[str, float]) -> RunRecord:
        return RunRecord(
            qid=qid, question=f"What is {qid}?", agents={a: AgentRecord(score=s) for a, s in scores.items()}
        )

    mixed = [row("m1", {"adder": 1.0, "backup": 0.0}), row("m2", {"adder": 0.0, "backup": 1.0})]
    mixed.append(row("m3", {"retired-agent": 1.0}))
    with AgentRoute([adder, backup], "knn") as ar:
        ar.fit(mixed)
        assert ar.ask("What is m1?").text in {"2", "3"}
        with pytest.raises(ValueError, match=r"none of the 1 recorded questions has a score for an agent of this pool"):
            ar.fit([row("m4", {"retired-agent": 1.0})])


def test_profile_records_a_declared_cost_and_leaves_an_unknown_one_open() -> None:
    """A tool declared free costs 0; an agent that says nothing has no recorded cost (a prices file may
    price it later); a declared price is recorded as it is."""
    free = agent(name="free", cost_per_call=0.0)(lambda q: "1")
    silent = agent(name="silent")(lambda q: "1")
    paid = agent(name="paid", cost_per_call=0.002)(lambda q: "1")
    with AgentRoute([free, silent, paid], "all") as ar:
        (run,) = ar.profile([Query(id="q", text="What is 0 plus 1?", gold=["1"])])
    assert {a: c.cost_usd for a, c in run.agents.items()} == {"free": 0.0, "silent": None, "paid": 0.002}
