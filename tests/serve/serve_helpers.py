"""Real uvicorn servers on loopback for the serve tests, and a small pool of scripted agents.

Imported by name (pytest puts this folder on ``sys.path``).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import uvicorn

from agentroute import Agent, AgentPool, AgentRecord, AgentResult, Query, RunRecord, agent, make_router, open_store
from agentroute.routers.calibration import calibrate
from agentroute.serve.app import ServeConfig, create_app
from agentroute.serve.service import RoutingService
from agentroute.types import TokenUsage

SECRET = "sk-test-0123456789abcdef"


@agent(name="alpha", description="Knows rivers.", skills=["rivers"], cost_per_call=0.002)
def alpha(q: Query) -> str:
    return "Seine" if "river" in q.text.lower() else "unknown"


@agent(name="beta", description="Knows rivers too, differently.", skills=["rivers"], cost_per_call=0.001)
def beta(q: Query) -> str:
    return "Rhone" if "river" in q.text.lower() else "unknown"


@agent(name="priced", description="An LLM-like agent that reports tokens and cost.")
def priced(q: Query) -> AgentResult:
    usage = TokenUsage(prompt_tokens=12, completion_tokens=3, calls=1)
    return AgentResult(agent="priced", answer="Seine", cost=0.01, usage=usage)


@agent(name="context-counter", description="Says how many context messages it got.")
def context_counter(q: Query) -> str:
    return f"{len(q.context)} context: " + " | ".join(q.context)


@agent(name="broken", description="Always fails, with a key in its error.")
def broken(q: Query) -> str:
    raise RuntimeError(f"provider refused key {SECRET}")


class Sleepy(Agent):
    def __init__(self, seconds: float) -> None:
        super().__init__(name="sleepy", description="Answers slowly.")
        self.seconds = seconds

    async def arun(self, query: Query) -> str:
        await asyncio.sleep(self.seconds)
        return "late"


def pool(*names: str, sleep: float = 5.0) -> AgentPool:
    known: dict[str, Any] = {
        "alpha": alpha,
        "beta": beta,
        "context-counter": context_counter,
        "broken": broken,
        "priced": priced,
    }
    return AgentPool(Sleepy(sleep) if n == "sleepy" else known[n] for n in names)


#: USD per character of the question: the two agents charge as token-priced APIs do ('dear' 10x 'cheap')
PRICE = {"cheap": 1e-7, "dear": 1e-6}


def priced_question(i: int) -> str:
    core = f"What is {i} plus one?" if i % 2 == 0 else f"Which poet wrote the ballad of harbour {i}?"
    return core + " please answer carefully" * (1 + i % 4)


def _priced_agent(name: str, markup: float) -> Agent:
    """A tool agent whose reported cost is its price per character times ``markup``."""

    @agent(name=name, description=f"The {name} model.")
    def run(q: Query) -> AgentResult:
        return AgentResult(agent=name, answer=f"{name} says 42", cost=markup * PRICE[name] * len(q.text))

    return run


def budgeted_service(markup: float = 1.5) -> tuple[RoutingService, float]:
    """A kNN router trained on 240 past questions at the old prices and calibrated to a budget half way
    between always-cheap and always-dear, serving agents that now charge ``markup`` times those prices;
    with the target. Arithmetic is easy for both agents, poetry only for 'dear'."""
    rng = np.random.default_rng(0)
    store = open_store("memory")
    for i in range(240):
        q = priced_question(i)
        cheap_right = rng.random() < (0.9 if i % 2 == 0 else 0.3)
        store.record(
            RunRecord(
                qid=f"h{i}",
                question=q,
                agents={
                    "cheap": AgentRecord(score=float(cheap_right), cost_usd=PRICE["cheap"] * len(q)),
                    "dear": AgentRecord(score=float(rng.random() < 0.9), cost_usd=PRICE["dear"] * len(q)),
                },
            )
        )
    svc = RoutingService(
        AgentPool([_priced_agent("cheap", markup), _priced_agent("dear", markup)]), make_router("knn", seed=0), store
    )
    mean = np.mean([len(priced_question(i)) for i in range(240)]) * np.array([PRICE["cheap"], PRICE["dear"]])
    target = float(mean.mean())
    calibrate(asyncio.run(svc.engine("agentroute")).router, target_cost=target)  # type: ignore[arg-type]
    return svc, target


@contextmanager
def running(service: RoutingService, config: ServeConfig | None = None) -> Iterator[str]:
    """Serve the app on a free loopback port in a thread; yields the base URL; stops (lifespan included).
    Unless the config says otherwise, only loopback Host names are served, as ``agentroute serve`` does."""
    config = config or ServeConfig()
    if config.allowed_hosts is None:
        config = replace(config, allowed_hosts=("127.0.0.1", "localhost"))
    app = create_app(service, config)
    sock = socket.create_server(("127.0.0.1", 0))  # bound before the server starts: no port to lose
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        assert not thread.is_alive(), "test server did not stop within 20 s"
