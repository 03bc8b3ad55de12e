"""Served runs and their feedback on both stores: what ``agentroute serve`` writes and reads back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentroute import AgentPool, Query, agent, make_router
from agentroute.kg.store import GraphStore
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.serve.service import RoutingService


@agent(name="paris", description="Answers Paris.")
def paris(q: Query) -> str:
    return "Paris"


@agent(name="rome", description="Answers Rome.")
def rome(q: Query) -> str:
    return "Rome"


@agent(name="down", description="Always fails.")
def down(q: Query) -> str:
    raise RuntimeError("offline")


@pytest.fixture(params=["networkx", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    if request.param == "networkx":
        yield NetworkXStore()
    else:
        yield request.getfixturevalue("neo4j_store")


async def test_served_run_is_recorded_unscored_then_scored_by_feedback(store: GraphStore) -> None:
    service = RoutingService(AgentPool([paris, rome, down]), make_router("all"), store)
    served = await service.ask("agentroute", service.query("What is the capital of France?"))
    await service.settle()
    run = service.run(served.id)
    assert run["question"] == "What is the capital of France?" and run["failed"] == ["down"]
    assert {a["agent"]: (a["answer"], a["score"]) for a in run["agents"]} == {
        "paris": ("Paris", None),
        "rome": ("Rome", None),
        "down": (None, None),
    }
    assert [r.qid for r in store.history() if r.scores()] == []

    result = await service.feedback(served.id, preferred="Paris")
    assert result["scores"] == {"paris": 1.0, "rome": 0.0, "down": 0.0}
    scored = [r for r in store.history() if r.scores()]
    assert [r.qid for r in scored] == [served.id] and scored[0].scores() == result["scores"]
    assert [r["id"] for r in service.runs(5)] == [served.id]
    await service.aclose()
