"""Pipeline overhead of the LLM path, and the concurrency ``ask_many`` reaches against an endpoint.

A scripted Chat Completions server on loopback answers instantly; every call goes through the real
``openai`` client. Overhead per question = wall time of ``ask`` minus the time spent inside model calls
(measured around each ``acomplete``; with parallel agents, the longest call). It is compared with
LangGraph's own floor, measured in the same run: a compiled graph of the same shape (five no-op nodes and
one ``Send``) invoked the same way. Target: overhead within 2x the floor. The floor's nodes are plain sync
functions, which LangGraph runs on a thread pool under ``ainvoke``; the router graph keeps only its two
steps that may block (query graph, sync router) there, so the same graph with ``async`` no-op nodes (no
thread hops) is measured too and reported as a second, stricter ratio.

Concurrency: 64 questions through ``ask_many(concurrency=64)`` while the server holds each reply for
``--delay`` seconds; reports the most requests the server saw at once, the wall time and the errors.
Target: 64 concurrent questions, no errors.

    python benchmarks/llm_overhead.py [--n 200] [--agents 1] [--delay 2] [--questions 64]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any, TypedDict

from rich.console import Console
from rich.table import Table

from agentroute.agents.llm import LLMAgent
from agentroute.llm import Completion, OpenAIChatModel
from agentroute.testing.chat_server import ChatServer, Reply
from agentroute.workflow import AgentRoute


class TimedModel:
    """A ChatModel wrapper that records how long each call took (time inside the model call)."""

    def __init__(self, inner: OpenAIChatModel) -> None:
        self.inner, self.model = inner, inner.model
        self.spans: list[tuple[float, float]] = []

    def complete(self, messages: Any, **params: Any) -> Completion:
        raise NotImplementedError

    async def acomplete(self, messages: Any, **params: Any) -> Completion:
        start = time.perf_counter()
        try:
            return await self.inner.acomplete(messages, **params)
        finally:
            self.spans.append((start, time.perf_counter()))


def floor_graph(asynchronous: bool = False) -> Any:
    """A compiled no-op graph shaped like the router graph (build -> route -> Send -> settle -> aggregate),
    with sync nodes (as plain lambdas) or ``async`` ones."""
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    class S(TypedDict, total=False):
        q: str
        out: str

    def step(out: Any) -> Any:
        if not asynchronous:
            return lambda s: out

        async def node(s: Any) -> Any:
            return out

        return node

    g = StateGraph(S)
    g.add_node("build", step({}))
    g.add_node("route", step({}))
    g.add_node("run", step({}))
    g.add_node("settle", step({}), defer=True)
    g.add_node("aggregate", step({"out": "x"}))
    g.add_edge(START, "build")
    g.add_edge("build", "route")
    g.add_conditional_edges("route", step([Send("run", {"q": "x"})]), ["run"])
    g.add_edge("run", "settle")
    g.add_edge("settle", "aggregate")
    g.add_edge("aggregate", END)
    return g.compile()


def overhead(server: ChatServer, n: int, n_agents: int) -> dict[str, list[float]]:
    """Seconds per question: ``ask`` wall time, the part outside model calls, and the LangGraph floors,
    measured alternately (question i, then floor runs i) so machine load affects all alike."""
    model = TimedModel(OpenAIChatModel("bench", base_url=server.url, max_retries=0))
    agents = [LLMAgent(f"llm-{i}", model, "direct") for i in range(n_agents)]
    ar = AgentRoute(agents, "all")
    floor, afloor = floor_graph(), floor_graph(asynchronous=True)

    async def run() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {"wall": [], "outside": [], "floor": [], "afloor": []}
        for i in range(n + 5):
            model.spans.clear()
            t0 = time.perf_counter()
            answer = await ar.aask(f"What is {i} plus {i + 1}?")
            wall = time.perf_counter() - t0
            assert answer.text == "42", answer
            inside = max(end for _, end in model.spans) - min(start for start, _ in model.spans)
            t0 = time.perf_counter()
            await floor.ainvoke({"q": f"question {i}"})
            floor_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            await afloor.ainvoke({"q": f"question {i}"})
            afloor_s = time.perf_counter() - t0
            if i >= 5:  # the first questions warm up the client and the graphs
                out["wall"].append(wall)
                out["outside"].append(wall - inside)
                out["floor"].append(floor_s)
                out["afloor"].append(afloor_s)
        await model.inner.aclose()  # this loop's client, before the loop closes
        return out

    return asyncio.run(run())


def concurrency(server: ChatServer, questions: int) -> tuple[float, int]:
    """(wall seconds, errors) of ``ask_many`` over ``questions`` questions at full concurrency."""
    model = OpenAIChatModel("bench", base_url=server.url, concurrency=questions, max_retries=0, timeout_s=30)
    ar = AgentRoute([LLMAgent("llm", model, "direct")], "all", timeout_s=30)
    ar.ask("warm up")
    t0 = time.perf_counter()
    answers = ar.ask_many([f"Question number {i}?" for i in range(questions)], concurrency=questions)
    wall = time.perf_counter() - t0
    errors = sum(1 for a in answers for r in a.results if r.error) + sum(1 for a in answers if a.text != "42")
    return wall, errors


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200, help="questions timed one at a time")
    p.add_argument("--agents", type=int, default=1, help="LLM agents per question (called in parallel)")
    p.add_argument("--delay", type=float, default=2.0, help="server delay per reply in the concurrency run (s)")
    p.add_argument("--questions", type=int, default=64, help="questions in the concurrency run")
    args = p.parse_args(argv)
    console = Console()

    with ChatServer(lambda req: "Answer: 42") as server:
        times = overhead(server, args.n, args.agents)
    with ChatServer(lambda req: Reply(text="Answer: 42", delay_s=args.delay)) as slow:
        wall, errors = concurrency(slow, args.questions)
        seen = slow.max_in_flight

    med = statistics.median
    title = f"LLM pipeline overhead ({args.n} questions, {args.agents} agent(s))"
    table = Table("measure", "median ms", "p90 ms", title=title)
    rows = (
        ("ask wall time", "wall"),
        ("outside model calls", "outside"),
        ("LangGraph floor", "floor"),
        ("floor, async nodes", "afloor"),
    )
    for name, key in rows:
        xs = sorted(times[key])
        table.add_row(name, f"{med(xs) * 1e3:.2f}", f"{xs[int(0.9 * (len(xs) - 1))] * 1e3:.2f}")
    console.print(table)
    outside, floor = times["outside"], times["floor"]
    ratio = med(outside) / med(floor)
    console.print(f"overhead / LangGraph floor: {ratio:.2f}x (target <= 2x): {'met' if ratio <= 2 else 'NOT met'}")
    console.print(f"overhead / floor with async nodes: {med(outside) / med(times['afloor']):.2f}x")
    ideal = args.delay
    console.print(
        f"ask_many: {args.questions} questions, server saw {seen} at once, {wall:.2f}s wall "
        f"(one reply takes {ideal:.2f}s), {errors} errors (target: {args.questions} at once, 0 errors): "
        f"{'met' if seen >= args.questions and errors == 0 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
