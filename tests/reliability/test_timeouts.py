"""What a timeout means for agents that misbehave in the ways real ones do: raising their own
``TimeoutError``, blocking the event loop, ignoring cancellation, hanging in a thread of a full pool."""

from __future__ import annotations

import asyncio
import threading
import time

from agentroute import AgentRoute, Query, agent
from agentroute.agents.executor import AgentExecutor
from agentroute.pipeline import invoke_with_retries


def test_an_agents_own_timeout_error_is_its_failure_not_a_timeout_of_ours() -> None:
    @agent(name="socket")
    def socket(q: Query) -> str:
        raise TimeoutError("read timed out")

    for timeout in (None, 5.0):
        result = asyncio.run(socket.invoke(Query(id="q", text="q"), timeout=timeout))
        assert result.error == "TimeoutError: read timed out" and result.latency_s < 1.0


def test_an_async_agent_that_blocks_the_loop_past_its_deadline_is_a_timeout() -> None:
    @agent(name="blocker")
    async def blocker(q: Query) -> str:
        time.sleep(0.5)  # wrong in async code: nothing can interrupt it
        return "late"

    result = asyncio.run(blocker.invoke(Query(id="q", text="q"), timeout=0.2))
    assert result.answer is None and result.error is not None
    assert (
        result.error.startswith("timeout after 0.2s: answered after 0.5") and "blocking the event loop" in result.error
    )


def test_an_agent_that_ignores_cancellation_does_not_hold_the_question() -> None:
    release = asyncio.Event()

    @agent(name="stubborn")
    async def stubborn(q: Query) -> str:
        while not release.is_set():
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                continue  # swallowed
        return "late"

    async def main() -> tuple[float, str | None, str | None]:
        start = time.perf_counter()
        result = await stubborn.invoke(Query(id="q", text="q"), timeout=0.2)
        took = time.perf_counter() - start
        release.set()
        await asyncio.sleep(0.1)
        return took, result.answer, result.error

    took, answer, error = asyncio.run(main())
    assert took < 0.5 and answer is None and error == "timeout after 0.2s"


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
