"""Load: ``AgentRoute.ask_many`` over 1,000 questions with concurrency 64, against agents that sleep and
against LLM agents on the loopback Chat Completions server; throughput, errors and peak memory.

Two pools, each through the real LangGraph pipeline (every selected agent called, early stopping off):
``sleep`` — three agents (async, sync and a class) that sleep 20 ms each; ``llm`` — two ``LLMAgent``s
(direct prompting, the real ``openai`` client) on a scripted server that also sleeps 20 ms per reply.
Peak RSS is the process's high-water mark (``ru_maxrss``) after each pool; "errors" counts agent results
with an error and questions that ended without an answer. Served load (``agentroute serve``) is measured
by ``benchmarks/serve_load.py``.

    python benchmarks/load.py [--questions 1000] [--concurrency 64] [--pools sleep,llm]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time

from rich.console import Console
from rich.table import Table

from agentroute import Agent, AgentRoute, Query, agent
from agentroute.agents.llm import LLMAgent
from agentroute.llm import OpenAIChatModel
from agentroute.routers.base import BaseRouter
from agentroute.testing.chat_server import ChatServer, Reply
from agentroute.types import QueryGraph, RoutingDecision

SLEEP_S = 0.02


class CallAll(BaseRouter):
    name = "call-all"

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        names = graph.agent_names
        return RoutingDecision(router=self.name, probs={a: 1 / len(names) for a in names}, selected=names)


def sleep_pool() -> list[Agent]:
    @agent(name="async-sleeper")
    async def async_sleeper(q: Query) -> str:
        await asyncio.sleep(SLEEP_S)
        return "ok"

    @agent(name="sync-sleeper")
    def sync_sleeper(q: Query) -> str:
        time.sleep(SLEEP_S)
        return "ok"

    class ClassSleeper(Agent):
        async def arun(self, query: Query) -> str:
            await asyncio.sleep(SLEEP_S)
            return "ok"

    return [async_sleeper, sync_sleeper, ClassSleeper(name="class-sleeper")]


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def run(agents: list[Agent], questions: list[str], concurrency: int) -> dict[str, float]:
    with AgentRoute(agents, CallAll(), timeout_s=30.0) as ar:
        ar.ask_many(questions[:concurrency], concurrency=concurrency)  # warm up (clients, threads, graph)
        start = time.perf_counter()
        answers = ar.ask_many(questions, concurrency=concurrency)
        seconds = time.perf_counter() - start
    agent_errors = sum(1 for a in answers for r in a.results if r.error)
    return {
        "questions": len(answers),
        "q/s": len(answers) / seconds,
        "agent calls/s": sum(len(a.results) for a in answers) / seconds,
        "agent errors": agent_errors,
        "unanswered": sum(1 for a in answers if a.error),
        "peak RSS MB": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--pools", default="sleep,llm")
    args = parser.parse_args()
    questions = [f"Load question number {i}?" for i in range(args.questions)]
    rows: dict[str, dict[str, float]] = {}
    for pool in args.pools.split(","):
        if pool == "sleep":
            rows["sleeping agents (3 x 20 ms)"] = run(sleep_pool(), questions, args.concurrency)
        elif pool == "llm":
            with ChatServer(lambda r: Reply(text="Answer: 42", delay_s=SLEEP_S)) as server:
                agents: list[Agent] = [
                    LLMAgent(n, OpenAIChatModel(m, base_url=server.url, api_key="unused", concurrency=args.concurrency))
                    for n, m in (("llm-a", "model-a"), ("llm-b", "model-b"))
                ]
                rows["LLM agents, loopback server (2 x 20 ms)"] = run(agents, questions, args.concurrency)
        else:
            parser.error(f"--pools: unknown pool {pool!r} (sleep, llm)")
    table = Table(title=f"ask_many load: {args.questions} questions, concurrency {args.concurrency}")
    table.add_column("pool")
    for col in next(iter(rows.values())):
        table.add_column(col, justify="right")
    for name, row in rows.items():
        table.add_row(name, *(f"{v:,.0f}" if k != "q/s" else f"{v:,.1f}" for k, v in row.items()))
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
