"""QueryGraphBuilder: graph contents, neighbours, covers, similar past queries, no leakage, history."""

from __future__ import annotations

import numpy as np
import pytest

from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.embed import HashingEmbedder
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.types import AgentSpec, Query, QueryGraph, RunRecord

AGENTS = [
    AgentSpec(name="geo", description="Answers questions about places like Paris.", skills=["capitals", "maps"]),
    AgentSpec(name="calc", description="Solves arithmetic word problems.", skills=["arithmetic"], cost_per_call=0.5),
    AgentSpec(name="lit", description="Knows novels and authors.", skills=["books"]),
]


def _run(qid: str, question: str, geo: float, calc: float, lit: float) -> RunRecord:
    agents = {"geo": {"score": geo, "cost_usd": 0.01}, "calc": {"score": calc}, "lit": {"score": lit}}
    return RunRecord(qid=qid, question=question, gold=["secret gold"], agents=agents)


HISTORY = [
    _run("h1", "What is the capital of France?", 1.0, 0.0, 0.0),
    _run("h2", "Which river flows through the capital of France?", 1.0, 0.0, 0.5),
    _run("h3", "How many apples does Tom have after buying 3 more?", 0.0, 1.0, 0.0),
    _run("h4", "Who wrote the novel War and Peace?", 0.0, 0.0, 1.0),
]


@pytest.fixture()
def store() -> NetworkXStore:
    s = NetworkXStore()
    s.record_many(HISTORY, [[] for _ in HISTORY])
    s.upsert_nodes("Entity", [{"id": "seine", "kind": "span"}])
    s.upsert_edges(
        "RELATED",
        [
            {"src": "paris", "dst": "seine", "kind": "on_river"},
            {"src": "eiffel tower", "dst": "paris", "kind": "located_in"},
            {"src": "louvre", "dst": "paris", "kind": "located_in"},
        ],
    )
    s.upsert_edges("COVERS", [{"src": "lit", "dst": "eiffel tower"}, {"src": "ghost", "dst": "paris"}])
    return s


def test_entities_neighbours_and_related_edges(store: NetworkXStore) -> None:
    g = QueryGraphBuilder(store, AGENTS).build(Query(id="q", text="How tall is the Eiffel Tower in Paris?"))
    assert g.entities[: g.n_mentioned] == ["tall", "eiffel tower", "paris"]
    assert g.entity_kinds[: g.n_mentioned] == ["word", "span", "span"]
    assert set(g.entities[g.n_mentioned :]) == {"seine", "louvre"}
    kinds = dict(zip(g.entities, g.entity_kinds, strict=True))
    assert kinds["seine"] == "span" and kinds["louvre"] == "entity"  # store kind, else a default
    idx = {e: i for i, e in enumerate(g.entities)}
    assert set(g.related) == {
        (idx["paris"], idx["seine"], "on_river"),
        (idx["eiffel tower"], idx["paris"], "located_in"),
        (idx["louvre"], idx["paris"], "located_in"),
    }
    assert g.entity_vecs.shape == (len(g.entities), 256) and g.entity_vecs.dtype == np.float32
    emb = HashingEmbedder()
    assert np.allclose(g.entity_vecs[idx["seine"]], emb.embed(["seine"])[0])


def test_max_neighbours_caps_the_added_entities(store: NetworkXStore) -> None:
    g = QueryGraphBuilder(store, AGENTS, max_neighbours=1).build(Query(id="q", text="Where is Paris?"))
    assert g.n_mentioned == 1 and len(g.entities) == 2
    assert all(i < len(g.entities) and j < len(g.entities) for i, j, _ in g.related)


def test_agents_and_covers_from_profiles_and_store(store: NetworkXStore) -> None:
    g = QueryGraphBuilder(store, AGENTS).build(Query(id="q", text="Is the Eiffel Tower in Paris good for arithmetic?"))
    assert g.agent_names == ["geo", "calc", "lit"]
    assert g.agent_vecs.shape == (3, 256)
    idx = {e: i for i, e in enumerate(g.entities)}
    assert (0, idx["paris"]) in g.covers  # geo's description names Paris
    assert (1, idx["arithmetic"]) in g.covers  # calc's skill
    assert (2, idx["eiffel tower"]) in g.covers  # a COVERS edge in the store
    assert len(g.covers) == 3  # "ghost" is not a candidate agent


def test_similar_past_queries_ranked_with_scores_and_costs(store: NetworkXStore) -> None:
    b = QueryGraphBuilder(store, AGENTS, k_similar=2)
    g = b.build(Query(id="new", text="What is the capital city of France?"))
    assert [p.id for p in g.similar] == ["h1", "h2"]
    assert g.similar[0].similarity >= g.similar[1].similarity > 0.3
    assert g.similar[0].scores == {"geo": 1.0, "calc": 0.0, "lit": 0.0}
    assert g.similar[0].costs == {"geo": 0.01}
    assert g.similar[0].text == "What is the capital of France?"
    assert g.past_vecs.shape == (2, 256)
    assert np.isclose(float(g.past_vecs[0] @ g.query_vec), g.similar[0].similarity, atol=1e-5)


def test_a_question_never_sees_its_own_record(store: NetworkXStore) -> None:
    b = QueryGraphBuilder(store, AGENTS, k_similar=10)
    g = b.build(Query(id="h1", text="What is the capital of France?"))
    assert "h1" not in [p.id for p in g.similar]
    assert len(g.similar) == 3 and g.past_vecs.shape == (3, 256)
    many = b.build_many([Query(id=r.qid, text=r.question) for r in HISTORY])
    for run, graph in zip(HISTORY, many, strict=True):
        assert run.qid not in [p.id for p in graph.similar]


def _content(g: QueryGraph) -> tuple:
    similar = [(p.id, p.similarity, p.scores) for p in g.similar]
    return (
        g.entities,
        g.entity_kinds,
        g.related,
        g.covers,
        similar,
        g.query_vec.tolist(),
        g.entity_vecs.tolist(),
        g.past_vecs.tolist(),
    )


def test_gold_is_never_used_nor_passed_on(store: NetworkXStore) -> None:
    b = QueryGraphBuilder(store, AGENTS)
    with_gold = Query(id="q", text="Who wrote War and Peace?", gold=["Leo Tolstoy"])
    g = b.build(with_gold)
    assert g.query.gold is None and with_gold.gold == ["Leo Tolstoy"]
    assert g.query.text == with_gold.text and g.query.id == "q"
    assert _content(g) == _content(b.build(Query(id="q", text="Who wrote War and Peace?", gold=["Paris"])))
    assert "secret gold" not in repr(g)


def test_build_many_matches_build(store: NetworkXStore) -> None:
    queries = [
        Query(id=f"q{i}", text=t)
        for i, t in enumerate(["Where is the Louvre?", "How many pears are left?", "", "Paris Paris Paris"])
    ]
    many = QueryGraphBuilder(store, AGENTS).build_many(queries)
    one_by_one = [QueryGraphBuilder(store, AGENTS).build(q) for q in queries]
    assert [_content(g) for g in many] == [_content(g) for g in one_by_one]


def test_empty_history_and_no_entities_give_zero_row_arrays() -> None:
    builder = QueryGraphBuilder(NetworkXStore(), [], embedder=HashingEmbedder(dim=32))
    g = builder.build(Query(id="q", text="?"))
    assert g.entities == [] and g.n_mentioned == 0 and g.similar == [] and g.agents == []
    assert g.entity_vecs.shape == (0, 32) and g.past_vecs.shape == (0, 32) and g.agent_vecs.shape == (0, 32)
    assert g.query_vec.shape == (32,)
    assert g.covers == [] and g.related == []


def test_set_history_refresh_and_add_history(store: NetworkXStore) -> None:
    b = QueryGraphBuilder(store, AGENTS, k_similar=10)
    query = Query(id="x", text="What is the capital of France?")
    assert b.history_size() == 4  # loaded lazily from the store
    b.set_history(HISTORY[2:])  # a training fold
    assert {p.id for p in b.build(query).similar} == {"h3", "h4"}
    late = _run("h5", "What is the capital of Italy?", 1.0, 0.0, 0.0)
    b.add_history([late])
    b.add_history([late])  # re-adding replaces, never duplicates
    assert [p.id for p in b.build(query).similar].count("h5") == 1
    assert b.history_size() == 3
    store.record(late)
    b.refresh()
    assert {p.id for p in b.build(query).similar} == {"h1", "h2", "h3", "h4", "h5"}
    explicit = QueryGraphBuilder(store, AGENTS, history=HISTORY[:1])
    assert [p.id for p in explicit.build(query).similar] == ["h1"]


def test_with_agents_shares_history_and_featurises_new_agents(store: NetworkXStore) -> None:
    b = QueryGraphBuilder(store, AGENTS)
    new = AgentSpec(name="chef", description="Cooks recipes from Paris bistros.", skills=["cooking"])
    other = b.with_agents([AGENTS[0], new])
    assert other.agents == [AGENTS[0], new] and b.agents == AGENTS
    assert other.embedder is b.embedder
    b.add_history([_run("h9", "Which cooking school is in Paris?", 0.0, 0.0, 0.0)])
    g = other.build(Query(id="q", text="Which cooking school is best in Paris?"))
    assert g.similar[0].id == "h9"  # history added through the first builder is shared
    assert g.agent_vecs.shape == (2, 256)
    assert np.allclose(g.agent_vecs[1], b.embedder.embed([new.profile_text()])[0])
    idx = {e: i for i, e in enumerate(g.entities)}
    assert (1, idx["cooking"]) in g.covers and (0, idx["paris"]) in g.covers
    with pytest.raises(ValueError, match="duplicate"):
        b.with_agents([AGENTS[0], AGENTS[0]])


def test_build_many_with_4000_history_rows_matches_single_builds() -> None:
    topics = ["river", "capital", "novel", "apples", "planet", "war", "song", "movie"]
    history = [
        _run(f"h{i}", f"Question {i}: what about the {topics[i % 8]} {i % 53} in Region {i % 31}?", 1, 0, 0)
        for i in range(4000)
    ]
    b = QueryGraphBuilder(NetworkXStore(), AGENTS, history=history)
    queries = [
        Query(id=f"q{i}", text=f"Tell me about the {topics[i % 8]} of Region {i % 17}, item {i}") for i in range(2000)
    ]
    graphs = b.build_many(queries)
    assert len(graphs) == 2000 and all(len(g.similar) == 10 for g in graphs)
    for q, g in zip(queries[:50], graphs[:50]):
        single = b.build(q)
        assert [p.id for p in single.similar] == [p.id for p in g.similar]
        assert single.entities == g.entities


class _SwapsHistoryMidBuild:
    """An embedder that replaces the builder's history while a question is being built: between finding
    the similar past questions and reading their rows, where a refit under load lands."""

    def __init__(self, history: list[RunRecord]) -> None:
        self.inner = HashingEmbedder()
        self.dim = self.inner.dim
        self.history = history
        self.builder: QueryGraphBuilder | None = None
        self.armed = False

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.armed and self.builder is not None and texts != ["How tall is the Eiffel Tower in Paris?"]:
            self.armed = False  # the entity embedding of the question being built
            self.builder.set_history(self.history)
        return self.inner.embed(texts)


def test_history_replaced_while_building_gives_a_consistent_graph(store: NetworkXStore) -> None:
    embedder = _SwapsHistoryMidBuild(HISTORY[:1])
    builder = QueryGraphBuilder(store, AGENTS, embedder=embedder, k_similar=3, history=HISTORY)
    embedder.builder, embedder.armed = builder, True
    g = builder.build(Query(id="q", text="How tall is the Eiffel Tower in Paris?"))
    assert not embedder.armed  # the swap happened mid-build
    by_id = {h.qid: h for h in HISTORY}
    assert len(g.similar) == 3 and len(g.past_vecs) == 3
    for past in g.similar:  # each row read from one and the same index (the one found similar in)
        assert past.text == by_id[past.id].question and past.scores == by_id[past.id].scores()
    assert builder.history_size() == 1  # and the new history is in place for the next question
