"""ingest_records: what is written, the counts returned, batching; a realistic ingest + build on a MoRE-shaped
log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.ingest import ingest_records
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.testing.routing_log import synthetic_routing_log
from agentroute.types import AgentSpec, Query, RunRecord

RECORDS = [
    RunRecord(
        qid="q1",
        question="Where is the Eiffel Tower in Paris?",
        dataset="geo",
        gold=["Paris"],
        agents={"geo": {"score": 1.0, "pred": "Paris"}, "calc": {"score": 0.0}},
    ),
    RunRecord(
        qid="q2", question="How far is Paris from London in 2024?", agents={"geo": {"score": 0.5, "cost_usd": 0.02}}
    ),
    RunRecord(qid="q3", question="What is 12 plus 30?", agents={"calc": {"score": 1.0}, "solver": {"score": 1.0}}),
]


class CountingStore(NetworkXStore):
    """Counts ``record_many`` calls, to check batching."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def record_many(self, runs: Sequence[RunRecord], entities: Sequence[Sequence[str]]) -> None:
        self.batches.append(len(runs))
        super().record_many(runs, entities)


def test_counts_and_what_is_written() -> None:
    store = NetworkXStore()
    counts = ingest_records(store, RECORDS)
    mentions = store.counts()["MENTIONS"]
    assert counts == {"queries": 3, "entities": store.counts()["Entity"], "agents": 3, "relationships": mentions + 5}
    assert store.counts()["PERFORMED"] == 5 and store.counts()["Query"] == 3
    assert store.get_node("Entity", "paris") == {"id": "paris", "text": "Paris", "kind": "span"}
    assert store.get_node("Entity", "2024") == {"id": "2024", "text": "2024", "kind": "date"}
    assert {r["src"] for r in store.edges("MENTIONS", dst="paris")} == {"q1", "q2"}
    assert store.get_node("Agent", "solver") == {"id": "solver"}
    assert [r.qid for r in store.history()] == ["q1", "q2", "q3"]


def test_agent_specs_add_their_properties() -> None:
    store = NetworkXStore()
    specs = [
        AgentSpec(name="geo", description="Places.", skills=["maps"], cost_per_call=0.3),
        AgentSpec(name="idle", description="Never ran."),
    ]
    counts = ingest_records(store, RECORDS, agents=specs)
    assert counts["agents"] == 4  # geo, calc, solver from records + idle from specs
    assert store.get_node("Agent", "geo") == {
        "id": "geo",
        "description": "Places.",
        "skills": ["maps"],
        "cost_per_call": 0.3,
    }
    assert store.get_node("Agent", "calc") == {"id": "calc"}


def test_batches_and_generators() -> None:
    store = CountingStore()

    def gen() -> Iterator[RunRecord]:
        yield from RECORDS * 2  # the same queries twice: upserts, not duplicates

    counts = ingest_records(store, gen(), batch_size=2)
    assert store.batches == [2, 2, 2]
    assert counts["queries"] == 6 and store.counts()["Query"] == 3 and store.counts()["PERFORMED"] == 5
    with pytest.raises(ValueError, match="batch_size"):
        ingest_records(store, RECORDS, batch_size=0)


def test_link_entities_relates_named_entities_of_one_question() -> None:
    store = NetworkXStore()
    counts = ingest_records(store, RECORDS, link_entities=True)
    related = {(r["src"], r["dst"], r["kind"]) for r in store.edges("RELATED")}
    assert related == {
        ("eiffel tower", "paris", "co_mention"),
        ("london", "paris", "co_mention"),
        ("2024", "london", "co_mention"),
        ("2024", "paris", "co_mention"),
    }
    assert counts["relationships"] == store.counts()["MENTIONS"] + 5 + 4


def test_realistic_ingest_and_build_on_a_more_shaped_log() -> None:
    records = synthetic_routing_log(800)  # four experts, twelve datasets
    dataset = {r.qid: r.dataset for r in records}
    store = NetworkXStore()
    counts = ingest_records(store, records, link_entities=True, batch_size=300)
    assert counts["queries"] == len(records) and counts["agents"] == 4
    assert counts["entities"] == store.counts()["Entity"] > 500
    assert store.counts()["PERFORMED"] == 4 * len(records)

    agents = [
        AgentSpec(name=n, description=f"{n} reasoning expert") for n in ("factual", "multihop", "math", "commonsense")
    ]
    builder = QueryGraphBuilder(store, agents, k_similar=5)
    graphs = builder.build_many([Query(id=r.qid, text=r.question, gold=r.gold) for r in records])
    assert builder.history_size() == len(records)
    math_sets = {"sums", "products", "word-math"}
    math_hits = []
    for rec, g in zip(records, graphs, strict=True):
        assert g.query.gold is None
        assert len(g.similar) == 5 and rec.qid not in {p.id for p in g.similar}
        assert set(g.similar[0].scores) == {"factual", "multihop", "math", "commonsense"}
        if rec.dataset in math_sets:
            math_hits.extend(dataset[p.id] in math_sets for p in g.similar)
    # arithmetic word problems find other arithmetic word problems (1/4 of the rows would be chance)
    assert sum(math_hits) / len(math_hits) > 0.6
    assert sum(len(g.entities) > g.n_mentioned for g in graphs) > 0.15 * len(graphs)  # co-mention neighbours
