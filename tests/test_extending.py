"""Every registry a user extends (store, aggregator, embedder, extractor, router) works by name: from the
API in both registration forms (a factory, or a lazy "module:attribute" string), and from the CLI when the
``--agents`` file registers them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from typer.testing import CliRunner

from agentroute import (
    AgentRoute,
    Answer,
    Query,
    register_aggregator,
    register_embedder,
    register_extractor,
    register_store,
)
from agentroute.cli import app
from agentroute.kg.extract import Entity
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.types import AgentResult, RoutingDecision

if TYPE_CHECKING:
    from conftest import CountingAgents

OPENED: list[str] = []


class CountingStore(NetworkXStore):
    """An in-memory store that remembers the URL it was opened with."""

    def __init__(self, url: str) -> None:
        super().__init__()
        OPENED.append(url)


class Longest:
    """Answers with the longest answer any agent gave."""

    name = "longest"

    def aggregate(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer:
        answers = [r.answer for r in results if r.ok]
        return Answer(text=max(answers, key=len, default=""), decision=decision, results=list(results))


class FirstAxis:
    """Every text on the first axis: a deterministic embedder anyone can recognise."""

    dim = 8

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, 0] = 1.0
        return out

    def config(self) -> dict[str, Any]:
        return {"name": "first-axis"}


class ShoutedWords:
    """Entities are the words written in capitals."""

    def extract(self, text: str) -> list[Entity]:
        seen: dict[str, Entity] = {}
        for word in text.split():
            word = word.strip("?.,!")
            if len(word) > 1 and word.isupper():
                seen.setdefault(word.lower(), Entity(word.lower(), word, "span"))
        return list(seen.values())


@pytest.mark.parametrize("lazy", [False, True], ids=["factory", "module:attribute"])
def test_api_takes_every_registered_part_by_name(lazy: bool, counting_agents: CountingAgents) -> None:
    here = f"{__name__}:"
    register_store("counting", here + "CountingStore" if lazy else CountingStore)
    register_aggregator("longest", here + "Longest" if lazy else Longest)
    register_embedder("first-axis", here + "FirstAxis" if lazy else FirstAxis)
    register_extractor("shouted", here + "ShoutedWords" if lazy else ShoutedWords)
    OPENED.clear()
    with AgentRoute(
        counting_agents({"short": "42", "long": "forty-two"}, Counter()),
        "all",
        store="counting:x",
        aggregator="longest",
        embedder="first-axis",
        extractor="shouted",
    ) as ar:
        assert OPENED == ["counting:x"] and isinstance(ar.store, CountingStore)
        assert ar.ask("What is SIX times SEVEN?").text == "forty-two"
        graph = ar.builder.build(Query(id="q", text="Where is PARIS?"))
        assert graph.entities[: graph.n_mentioned] == ["paris"]
        assert graph.query_vec.tolist() == [1.0] + [0.0] * 7


def test_decorator_forms_register_too(counting_agents: CountingAgents) -> None:
    @register_aggregator("shortest")
    class Shortest(Longest):
        name = "shortest"

        def aggregate(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer:
            answer = super().aggregate(query, decision, results)
            return answer.model_copy(update={"text": min((r.answer for r in results), key=len)})

    @register_store("counting2")
    def open_counting(url: str) -> CountingStore:
        return CountingStore(url)

    OPENED.clear()
    agents = counting_agents({"short": "42", "long": "forty-two"}, Counter())
    with AgentRoute(agents, "all", store="counting2:y", aggregator="shortest") as ar:
        assert ar.ask("What is 6 times 7?").text == "42"
    assert OPENED == ["counting2:y"]


POOL = """
from agentroute import Answer, BaseRouter, RoutingDecision, agent, register_aggregator, register_router
from agentroute import register_store
from agentroute.kg.stores.networkx_store import NetworkXStore


@agent(name="short")
def short(q):
    return "42"


@agent(name="long")
def long_(q):
    return "forty-two"


@register_aggregator("longest")
class Longest:
    name = "longest"

    def aggregate(self, query, decision, results):
        answers = [r.answer for r in results if r.ok]
        return Answer(text=max(answers, key=len, default=""), decision=decision, results=list(results))


@register_router("everyone")
class Everyone(BaseRouter):
    name = "everyone"

    def __init__(self, seed=0):
        self.seed = seed

    def route(self, graph, k=None):
        names = graph.agent_names
        return RoutingDecision(router=self.name, probs={a: 1 / len(names) for a in names}, selected=names)


@register_store("scratch")
def open_scratch(url):
    print("opened " + url)
    return NetworkXStore()
"""


def test_the_cli_uses_what_the_agents_file_registers(tmp_path: Path) -> None:
    pool = tmp_path / "pool.py"
    pool.write_text(POOL)
    args = ["ask", "What is 6 times 7?", "--agents", str(pool), "--router", "everyone"]
    result = CliRunner().invoke(app, [*args, "--store", "scratch:here", "--aggregate", "longest", "--json"])
    assert result.exit_code == 0, result.output
    assert "opened scratch:here" in result.stderr  # under --json, what user code prints goes to stderr
    assert json.loads(result.stdout.splitlines()[-1])["answer"] == "forty-two"
    unknown = CliRunner().invoke(app, [*args, "--aggregate", "loudest"])
    assert unknown.exit_code == 2 and "loudest" in unknown.output


def test_registrations_do_not_outlive_the_block_that_made_them(tmp_path: Path) -> None:
    """What a test registers, itself or through an agents file, is gone after it (tests/conftest.py runs
    every test in ``restored_registries``); what was registered before stays."""
    from agentroute import aggregator_names, load_agents, register_aggregator, router_names
    from agentroute.kg.store import store_schemes
    from agentroute.testing.registries import restored_registries

    pool = tmp_path / "pool.py"
    pool.write_text(POOL)
    before = (set(aggregator_names()), set(router_names()), set(store_schemes()))
    with restored_registries():
        register_aggregator("loudest", lambda: None)
        load_agents(str(pool))  # registers "longest", "everyone" and "scratch"
        assert {"loudest", "longest"} <= set(aggregator_names()) and "everyone" in router_names()
        assert "scratch" in store_schemes()
    assert (set(aggregator_names()), set(router_names()), set(store_schemes())) == before
    assert "weighted-vote" in before[0] and "gnn" in before[1]


def test_a_router_without_a_seed_parameter_is_still_built_by_name() -> None:
    """Commands pass ``seed`` to every router; a deterministic one need not take it."""
    from agentroute import make_router, register_router
    from agentroute.routers.base import BaseRouter

    @register_router("first-agent")
    class FirstAgent(BaseRouter):
        name = "first-agent"

        def __init__(self, k: int = 1) -> None:
            self.k = k

        def route(self, graph, k=None):  # type: ignore[no-untyped-def]
            first = graph.agents[0].name
            return RoutingDecision(router=self.name, probs={first: 1.0}, selected=[first])

    router = make_router("first-agent", seed=3, k=2)
    assert isinstance(router, FirstAgent) and router.k == 2
