"""What a timeout means for agents that misbehave in the ways real ones do: raising their own
``TimeoutError``, blocking the event loop, ignoring cancellation, hanging in a thread of a full pool."""

from __future__ import annotations

import asyncio
import threading
import time

from agentroute import Agent, AgentRoute, Query, agent
from agentroute.agents.executor import AgentExecutor
from agentroute.pipeline import invoke_with_retries


def stubborn_agent(release: threading.Event) -> Agent:
    """An async agent that swallows every cancellation and answers only once ``release`` is set."""

    @agent(name="stubborn")
    async def stubborn(q: Query) -> str:
        while not release.is_set():
            try:
                await asyncio.sleep(0.02)
            except asyncio.CancelledError:
                continue  # swallowed
        return "late"

    return stubborn


def test_an_agents_own_timeout_error_is_its_failure_not_a_timeout_of_ours() -> None:
    @agent(name="socket")
    def socket(q: Query) -> str:
        raise TimeoutError("read timed out")

    for timeout in (None, 5.0):
        result = asyncio.run(socket.invoke(Query(id="q", text="q"), timeout=timeout))
        assert result.error == "TimeoutError: read timed out" and result.latency_s < 1.0


def test_a_quick_agent_beside_one_that_blocks_the_loop_keeps_its_answer() -> None:
    """A sync agent answers in time on its thread while an async agent blocks the event loop: the quick
    one's answer stands (the loop saw it late, through no fault of its own)."""

    @agent(name="blocker")
    async def blocker(q: Query) -> str:
        time.sleep(0.6)  # wrong in async code: nothing can interrupt it
        return "late"

    @agent(name="quick")
    def quick(q: Query) -> str:
        return "42"

    async def both() -> list:
        query = Query(id="q", text="q")
        return list(await asyncio.gather(quick.invoke(query, timeout=0.3), blocker.invoke(query, timeout=0.3)))

    quick_result, _ = asyncio.run(both())
    assert quick_result.answer == "42" and quick_result.error is None


def test_an_agent_raising_cancelled_error_itself_fails_alone() -> None:
    @agent(name="odd")
    async def odd(q: Query) -> str:
        raise asyncio.CancelledError

    @agent(name="steady")
    def steady(q: Query) -> str:
        return "ok"

    with AgentRoute([odd, steady], "all") as ar:
        answer = ar.ask("anything?")
    errors = {r.agent: r.error for r in answer.results}
    assert answer.text == "ok" and errors == {"odd": "CancelledError: the agent was cancelled", "steady": None}


def test_an_agent_that_ignores_cancellation_does_not_hold_the_question() -> None:
    release = threading.Event()
    stubborn = stubborn_agent(release)

    async def main() -> tuple[float, str | None, str | None]:
        start = time.perf_counter()
        result = await stubborn.invoke(Query(id="q", text="q"), timeout=0.2)
        took = time.perf_counter() - start
        release.set()  # it would have waited for ever: any bound shows the question was not held
        await asyncio.sleep(0.1)
        return took, result.answer, result.error

    took, answer, error = asyncio.run(main())
    assert took < 5 and answer is None and error == "timeout after 0.2s"


def test_hung_calls_do_not_starve_healthy_agents_of_threads() -> None:
    """Two threads, and a hung agent on every question: the healthy agent still runs and answers on
    every one (it used to queue behind the hung calls and time out without having run)."""
    release = threading.Event()

    @agent(name="hung")
    def hung(q: Query) -> str:
        release.wait(30)
        return "late"

    @agent(name="healthy")
    def healthy(q: Query) -> str:
        return "42"

    pool = AgentExecutor(max_workers=2)
    try:
        with AgentRoute([hung, healthy], "all", timeout_s=0.3, executor=pool) as ar:
            answers = [ar.ask(f"question {i}?") for i in range(5)]
        for answer in answers:
            by_agent = {r.agent: r for r in answer.results}
            assert by_agent["healthy"].answer == "42", by_agent["healthy"].error
            assert by_agent["hung"].error == "timeout after 0.3s"
            assert answer.text == "42"
        assert pool.hung == 5
        release.set()
        deadline = time.monotonic() + 5
        while pool.hung and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.hung == 0  # the hung calls returned: their threads left the pool
    finally:
        release.set()
        pool.shutdown(wait=False)


def test_retries_count_the_cost_and_time_of_every_attempt() -> None:
    attempts: list[int] = []

    @agent(name="flaky", cost_per_call=0.01)
    def flaky(q: Query) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("try again")
        time.sleep(0.05)
        return "ok"

    result = asyncio.run(invoke_with_retries(flaky, Query(id="q", text="q"), timeout_s=5.0, retries=2))
    assert result.answer == "ok" and len(attempts) == 3
    assert abs(result.cost - 0.03) < 1e-12 and result.latency_s >= 0.05


def test_an_agent_calling_sys_exit_fails_alone() -> None:
    @agent(name="quitter")
    def quitter(q: Query) -> str:
        raise SystemExit(4)

    @agent(name="async-quitter")
    async def async_quitter(q: Query) -> str:
        raise SystemExit(5)

    @agent(name="steady")
    def steady(q: Query) -> str:
        return "ok"

    with AgentRoute([quitter, async_quitter, steady], "all") as ar:
        answer = ar.ask("anything?")
    errors = {r.agent: r.error for r in answer.results}
    assert answer.text == "ok" and errors["steady"] is None
    assert errors["quitter"] == "RuntimeError: the agent called sys.exit(4)"
    assert errors["async-quitter"] == "RuntimeError: the agent called sys.exit(5)"


def test_a_synchronous_ask_is_not_held_by_an_agent_that_ignores_cancellation() -> None:
    release = threading.Event()
    stubborn = stubborn_agent(release)

    @agent(name="steady")
    def steady(q: Query) -> str:
        return "ok"

    try:
        with AgentRoute([stubborn, steady], "all", timeout_s=0.3) as ar:
            ar.ask("warm up?")  # imports and graph building out of the timing
            start = time.perf_counter()
            answer = ar.ask("anything?")
            took = time.perf_counter() - start
        assert answer.text == "ok" and took < 2.0, took  # 0.3 s timeout, not until the agent gives up
    finally:
        release.set()
