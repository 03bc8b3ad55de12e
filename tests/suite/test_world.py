"""The generated world: deterministic, consistent, and loadable into a graph store."""

from __future__ import annotations

import pytest

from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.suite import World
from agentroute.suite.world import ATTRIBUTES, LINKS


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(0)


def test_sizes_and_unique_names(world: World) -> None:
    assert (len(world.people), len(world.cities), len(world.countries), len(world.companies)) == (60, 25, 10, 20)
    names = list(world.types)
    assert len({n.lower() for n in names}) == len(names) == 115
    currencies = [c.currency for c in world.countries]
    assert len(set(currencies)) == len(currencies)


def test_same_seed_same_world_other_seed_other_world() -> None:
    a, b, c = World.generate(5), World.generate(5), World.generate(6)
    assert a.facts == b.facts and a.passages == b.passages
    assert a.facts != c.facts and set(a.types) != set(c.types)


def test_facts_are_consistent(world: World) -> None:
    for name, kind in world.types.items():
        assert set(world.facts[name]) == set(ATTRIBUTES[kind])
        for attr, value in world.facts[name].items():
            target = LINKS.get((kind, attr))
            if target:
                assert world.types[value] == target, (name, attr, value)
    for company in world.companies:
        assert world.facts[company.ceo]["employer"] == company.name  # a CEO works for their company
    for country in world.countries:
        assert world.facts[country.capital]["country"] == country.name  # a capital lies in its country


def test_passages_state_the_facts(world: World) -> None:
    for name, passage in world.passages.items():
        assert name in passage
        for value in world.facts[name].values():
            assert value in passage, (name, value)
    assert len({p.split(name)[0][:5] for name, p in world.passages.items()}) > 2  # several phrasings


def test_rows_for_the_graph_store(world: World) -> None:
    entities = world.entity_rows()
    ids = {r["id"] for r in entities}
    assert len(ids) == len(entities) and all(r["id"] == r["name"].lower() for r in entities)
    assert {r["type"] for r in entities} == {"person", "city", "country", "company"}
    relations = world.relation_rows()
    assert {r["kind"] for r in relations} == {
        "lives_in", "located_in", "works_for", "ceo_of", "headquartered_in", "capital_of"
    }  # fmt: skip
    assert all(r["src"] in ids and r["dst"] in ids for r in relations)
    assert len(relations) == 2 * 60 + 25 + 10 + 2 * 20


def test_loads_into_a_networkx_store(world: World) -> None:
    store = NetworkXStore()
    nodes, edges = world.load_into(store)
    assert (nodes, edges) == (len(world.entity_rows()), len(world.relation_rows()))
    counts = store.counts()
    assert counts["Entity"] == 115 and counts["RELATED"] == len(world.relation_rows())
    person = world.people[0]
    assert store.get_node("Entity", person.name.lower())["type"] == "person"
    around = store.neighbourhood([person.name.lower()])
    assert {"rel": "RELATED", "src": person.name.lower(), "dst": person.city.lower(), "kind": "lives_in"} in [
        {k: row[k] for k in ("rel", "src", "dst", "kind")} for row in around
    ]
    world.load_into(store)  # idempotent
    assert store.counts()["RELATED"] == counts["RELATED"]
