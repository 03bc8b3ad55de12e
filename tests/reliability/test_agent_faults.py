"""Fault injection: 1,000 questions through the real LangGraph pipeline while 30% of agent calls fail.

Each call's fate is a pure function of (question, agent, attempt), so the run is reproducible and the test
can say exactly how many calls each agent should have received. Faults: raising, hanging past the
timeout (async and sync agents), an empty answer, a malformed return value. Every 25th question is
"doomed": every call of every agent fails, so those questions must come back explicitly failed.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import threading
import time
from collections import Counter
from typing import Any

from agentroute import Agent, AgentResult, AgentRoute, Query, agent
from agentroute.agents.executor import AgentExecutor
from agentroute.routers.base import BaseRouter
from agentroute.types import QueryGraph, RoutingDecision

N_QUESTIONS = 1000
FAULT_RATE = 0.30
FAULTS = ("raise", "hang", "empty", "malformed")
TIMEOUT_S = 0.2
HANG_S = 0.4  # past the timeout; finite so a sync agent's stuck thread comes back
RETRIES = 1
DOOMED_EVERY = 25


def fate(question: str, agent_name: str, attempt: int) -> str | None:
    """None for a good call, else the fault this call suffers."""
    number = int(question.split("#")[1].rstrip("?"))
    digest = hashlib.sha256(f"{question}|{agent_name}|{attempt}".encode()).digest()
    if number % DOOMED_EVERY == 0:
        return FAULTS[digest[1] % len(FAULTS)]
    if digest[0] / 256 >= FAULT_RATE:
        return None
    return FAULTS[digest[1] % len(FAULTS)]


def gold(question: str) -> str:
    return "answer-" + question.split("#")[1].rstrip("?")


class Ledger:
    """What happened: the fate dealt to each agent call, and every attempt the pipeline made
    ((question, agent) -> the errors of its attempts, in order; None for an attempt that answered)."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.fates: Counter[str] = Counter()
        self.attempts: dict[tuple[str, str], list[str | None]] = {}
        self._lock = threading.Lock()

    def next_fate(self, question: str, agent_name: str) -> str | None:
        with self._lock:
            attempt = self.calls[question, agent_name]
            self.calls[question, agent_name] += 1
            f = fate(question, agent_name, attempt)
            self.fates[f or "ok"] += 1
            return f

    def watch(self, agents: list[Agent]) -> list[Agent]:
        """Record every ``invoke`` (one attempt each) of these agents and what it returned."""
        for a in agents:
            invoke = a.invoke

            async def counted(query: Query, timeout: float | None = None, _invoke: Any = invoke) -> AgentResult:
                result = await _invoke(query, timeout=timeout)
                with self._lock:
                    self.attempts.setdefault((query.text, result.agent), []).append(result.error)
                return result

            a.invoke = counted  # type: ignore[method-assign]
        return agents


def flaky_pool(ledger: Ledger) -> list[Agent]:
    """Three agents that fail as ``fate`` says: async function, sync function, stateful class."""

    @agent(name="async-fn", description="async function agent")
    async def async_fn(q: Query) -> Any:
        f = ledger.next_fate(q.text, "async-fn")
        if f == "hang":
            await asyncio.sleep(HANG_S)
        if f == "raise":
            raise ConnectionError("endpoint went away")
        if f == "empty":
            return ""
        if f == "malformed":
            return {"not": "an answer"}
        return gold(q.text)

    @agent(name="sync-fn", description="sync function agent")
    def sync_fn(q: Query) -> Any:
        f = ledger.next_fate(q.text, "sync-fn")
        if f == "hang":
            time.sleep(HANG_S)
        if f == "raise":
            raise ValueError("tool crashed")
        if f == "empty":
            return AgentResult(agent="sync-fn", answer="   ")
        if f == "malformed":
            return [b"\x00\xff"]
        return gold(q.text)

    class Stateful(Agent):
        def __init__(self) -> None:
            super().__init__(name="stateful", description="class agent")

        async def arun(self, query: Query) -> Any:
            f = ledger.next_fate(query.text, "stateful")
            if f == "hang":
                await asyncio.sleep(HANG_S)
            if f == "raise":
                raise RuntimeError("boom")
            if f == "empty":
                return AgentResult(agent="someone-else", answer="")
            if f == "malformed":
                return object()
            return AgentResult(agent="someone-else", answer=gold(query.text))

    return ledger.watch([async_fn, sync_fn, Stateful()])


class Weighted(BaseRouter):
    """All three agents, weighted 0.5/0.3/0.2, run with early stopping (so failures change the waves)."""

    name = "weighted-test"

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        weights = dict(zip(graph.agent_names, (0.5, 0.3, 0.2)))
        return RoutingDecision(router=self.name, probs=weights, selected=list(weights), early_stop=True)


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_faulty_agents_never_lose_a_question() -> None:
    ledger = Ledger()
    questions = [f"What is item #{i}?" for i in range(N_QUESTIONS)]
    with AgentRoute(flaky_pool(ledger), Weighted(), timeout_s=TIMEOUT_S, retries=RETRIES) as ar:
        answers = ar.ask_many(questions, concurrency=64)

    # none missing, none duplicated, each answer belongs to its question
    assert len(answers) == N_QUESTIONS
    answered = failed = 0
    for q, a in zip(questions, answers):
        called = [r.agent for r in a.results]
        assert len(called) == len(set(called)), f"{q}: an agent's result counted twice: {called}"
        assert set(called) <= {"async-fn", "sync-fn", "stateful"}
        if a.error is None:
            answered += 1
            assert a.text == gold(q), f"{q}: answered {a.text!r}"
        else:
            failed += 1
            assert a.text == ""
            assert a.error.startswith("no agent answered"), a.error
            assert not any(r.ok and r.answer and r.answer.strip() for r in a.results)
        for r in a.results:  # an error is retried, an answer is not, never beyond the limit
            tries = ledger.attempts[q, r.agent]
            assert 1 <= len(tries) <= 1 + RETRIES, (q, r.agent, tries)
            assert all(e is not None for e in tries[:-1]), (q, r.agent, tries)
            assert tries[-1] == r.error, (q, r.agent, tries)  # the answer is the last attempt's
            assert ledger.calls[q, r.agent] <= len(tries)  # no call outside an attempt
    doomed = sum(1 for i in range(N_QUESTIONS) if i % DOOMED_EVERY == 0)
    assert failed >= doomed
    assert answered + failed == N_QUESTIONS
    # every attempt made belongs to an agent result the pipeline returned (no orphan or repeated waves)
    returned = {(q, r.agent) for q, a in zip(questions, answers) for r in a.results}
    assert set(ledger.attempts) == returned and set(ledger.calls) <= returned
    retried = sum(len(t) - 1 for t in ledger.attempts.values())

    total = sum(ledger.fates.values())
    faulty = total - ledger.fates["ok"]
    assert 0.25 < (faulty - doomed * 3) / total < 0.40  # the intended fault mix was really injected
    print(
        f"\nfault injection: {N_QUESTIONS} questions, {answered} answered, {failed} explicitly failed, "
        f"{N_QUESTIONS - answered - failed} lost; {total} agent calls, {faulty} faulty, {retried} retries "
        f"({', '.join(f'{k} {v}' for k, v in sorted(ledger.fates.items()))})"
    )


def test_memory_stays_bounded_over_repeated_faulty_batches() -> None:
    """A second and third batch of 300 faulty questions leave resident memory where the first left it:
    nothing per question (results, hung tasks, threads) is retained by the pipeline. Threads are counted
    by this run's own executor prefix, so other tests' lingering threads cannot blur the bound."""
    ledger = Ledger()
    executor = AgentExecutor(max_workers=64, thread_name_prefix="faulty-batches")
    growth = []
    try:
        with AgentRoute(flaky_pool(ledger), Weighted(), timeout_s=TIMEOUT_S, retries=RETRIES, executor=executor) as ar:
            for batch in range(3):
                questions = [f"Batch {batch} item #{i}?" for i in range(300)]
                before = rss_mb()
                assert len(ar.ask_many(questions, concurrency=64)) == 300
                gc.collect()
                growth.append(rss_mb() - before)
                ours = [t for t in threading.enumerate() if t.name.startswith("faulty-batches")]
                assert len(ours) <= executor.max_workers  # the agents' pool is capped, whatever the load
    finally:
        executor.shutdown(wait=False)
    assert growth[1] < 40 and growth[2] < 40, f"RSS grew by {growth} MB over three batches"
