from __future__ import annotations

import pytest

from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.store import open_store
from agentroute.routers.base import BaseRouter
from agentroute.routers.coldstart import history_weights, route_with_cold_start
from agentroute.routers.description import stem
from agentroute.routers.registry import make_router
from agentroute.types import AgentSpec, PastQuery, Query, RoutingDecision

SPECS = [
    AgentSpec(name="calculator", description="Adds, subtracts and multiplies numbers.", skills=["arithmetic"]),
    AgentSpec(name="atlas", description="Knows the capital city of every country.", skills=["geography"]),
    AgentSpec(name="bard", description="Writes short poems about any topic.", skills=["poetry"]),
]


def build(question: str, specs: list[AgentSpec] = SPECS, similar: list[PastQuery] | None = None):
    graph = QueryGraphBuilder(open_store("memory"), specs).build(Query(id="q", text=question))
    if similar is not None:
        graph.similar = similar
    return graph


class Fixed(BaseRouter):
    """A history router with fixed probabilities that counts its calls."""

    name = "fixed"
    learns_from_history = True

    def __init__(self, probs: dict[str, float]) -> None:
        self.fixed, self.calls = probs, 0

    def route(self, graph, k=None):
        self.calls += 1
        return RoutingDecision(router=self.name, probs=dict(self.fixed), selected=[max(self.fixed, key=self.fixed.get)])


def past(scores: dict[str, float], i: int = 0) -> PastQuery:
    return PastQuery(id=f"p{i}", text="old question", similarity=0.5, scores=scores)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is 12 times 7?", "calculator"),
        ("Which city is the capital of Peru?", "atlas"),
        ("Write a poem about autumn.", "bard"),
    ],
)
def test_description_router_picks_the_agent_whose_description_matches(question: str, expected: str) -> None:
    decision = make_router("description").route(build(question))
    assert decision.selected == [expected]
    assert max(decision.probs, key=decision.probs.get) == expected
    assert sum(decision.probs.values()) == pytest.approx(1.0)


def test_stem_joins_plurals_and_third_person() -> None:
    words = ["poems", "countries", "Writes", "class", "bus"]
    assert [stem(w) for w in words] == ["poem", "country", "write", "class", "bus"]


def test_no_history_never_calls_the_learned_router() -> None:
    router = Fixed({"calculator": 0.1, "atlas": 0.1, "bard": 0.8})
    [decision] = route_with_cold_start(router, [build("What is the capital of Japan?")])
    assert router.calls == 0
    assert decision.selected == ["atlas"]
    assert decision.cold_start == ["atlas", "bard", "calculator"]
    assert decision.router == "fixed" and decision.rationale.startswith("cold start: no history yet")


def test_full_history_is_the_learned_decision_unchanged() -> None:
    router = Fixed({"calculator": 0.1, "atlas": 0.1, "bard": 0.8})
    everyone = {"calculator": 0.0, "atlas": 1.0, "bard": 0.0}
    graph = build("What is the capital of Japan?", similar=[past(everyone, i) for i in range(3)])
    [decision] = route_with_cold_start(router, [graph])
    assert decision.probs == router.fixed and decision.selected == ["bard"] and not decision.cold_start


def test_history_is_blended_in_as_it_accumulates() -> None:
    router = Fixed({"calculator": 0.1, "atlas": 0.1, "bard": 0.8})
    question = "What is the capital of Japan?"
    atlas_share = []
    for n in range(4):
        graph = build(question, similar=[past({"calculator": 0.0, "atlas": 0.0, "bard": 1.0}, i) for i in range(n)])
        assert history_weights(graph)["bard"] == pytest.approx(min(1.0, n / 3))
        [decision] = route_with_cold_start(router, [graph])
        atlas_share.append(decision.probs["atlas"])
    assert atlas_share == sorted(atlas_share, reverse=True)  # descriptions weigh less as history grows
    assert atlas_share[0] > 0.9 and atlas_share[-1] == pytest.approx(0.1)


def test_new_agent_routed_by_description_beside_known_ones() -> None:
    specs = [*SPECS, AgentSpec(name="translator", description="Translates English words into French.")]
    router = Fixed({"calculator": 0.3, "atlas": 0.3, "bard": 0.3, "translator": 0.1})
    known = {"calculator": 0.0, "atlas": 0.0, "bard": 0.0}
    graph = build("Translate the word cat into French.", specs, [past(known, i) for i in range(5)])
    [decision] = route_with_cold_start(router, [graph])
    assert decision.selected == ["translator"] and decision.cold_start == ["translator"]
    assert "little or no history for translator" in decision.rationale


def test_routers_without_history_are_called_as_is() -> None:
    router = make_router("all")
    graph = build("What is the capital of Japan?")
    [decision] = route_with_cold_start(router, [graph])
    assert decision == router.route(graph)


def test_agents_the_router_was_trained_on_are_trusted_without_nearby_history() -> None:
    class Trained(Fixed):
        def trained_agents(self) -> frozenset[str]:
            return frozenset({"calculator", "atlas"})

    router = Trained({"calculator": 0.1, "atlas": 0.1, "bard": 0.8})
    [decision] = route_with_cold_start(router, [build("Write a poem about the sea.")])
    assert router.calls == 1 and decision.cold_start == ["bard"]
    # bard is routed by its description (it matches), the two trained agents by the router
    assert decision.selected == ["bard"] and decision.probs["atlas"] == pytest.approx(decision.probs["calculator"])
