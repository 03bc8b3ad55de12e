"""Neo4jStore specifics: connection errors, URLs, dialects, statement limits, and routing inputs that match
the networkx store's exactly (same records in, same query graphs out)."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import neo4j
import numpy as np
import pytest

from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.ingest import ingest_records
from agentroute.kg.store import GraphStore, open_store
from agentroute.kg.stores.cypher_dialect import Dialect, FalkorDBDialect, clear_stale_bolt_slot, make_dialect
from agentroute.kg.stores.neo4j_store import Neo4jStore, StoreConnectionError, parse_bolt_url
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.testing.ports import free_port
from agentroute.types import AgentRecord, AgentSpec, Query, QueryGraph, RunRecord

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-Pa55word"


# -- no server needed ---------------------------------------------------------------------------------------


def test_parse_bolt_url_reads_credentials_database_and_dialect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEO4J_USER", raising=False)
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    monkeypatch.delenv("NEO4J_DATABASE", raising=False)
    got = parse_bolt_url("neo4j+s://al%40ice:p%3Ass@db.example.com:7688?database=kg&dialect=memgraph")
    assert got == {
        "uri": "neo4j+s://db.example.com:7688",
        "user": "al@ice",
        "password": "p:ss",
        "database": "kg",
        "dialect": "memgraph",
    }
    assert parse_bolt_url("bolt://[::1]:7687")["uri"] == "bolt://[::1]:7687"
    monkeypatch.setenv("NEO4J_USER", "env-user")
    monkeypatch.setenv("NEO4J_PASSWORD", "env-pass")
    monkeypatch.setenv("NEO4J_DATABASE", "envdb")
    assert parse_bolt_url("bolt://localhost") == {
        "uri": "bolt://localhost",
        "user": "env-user",
        "password": "env-pass",
        "database": "envdb",
        "dialect": None,
    }
    with pytest.raises(ValueError):
        parse_bolt_url("http://localhost:7474")
    with pytest.raises(ValueError):
        Neo4jStore("bolt://user:pw@localhost:7687")  # credentials go in arguments, never in the kept URI
    urls = ["bolt://neo4j:S3cr3t/Pw@db:7687", "bolt://neo4j:S3cr3t#@db:7687", "bolt://neo4j:S3cr3t?x@db"]
    urls += ["bolt://neo4j:4711/S3cr3t@db:7687", "bolt://neo4j:4711?S3cr3t@db"]  # the password's digits read as a port
    for url in urls:
        with pytest.raises(ValueError, match="percent-encode") as raised:
            parse_bolt_url(url)  # urllib reads "S3cr3t" as the port: the error must not quote it
        assert "S3cr3t" not in str(raised.value)


def test_falkordb_encoding_escapes_strings_and_refuses_what_it_cannot_carry() -> None:
    d = FalkorDBDialect()
    assert d.encode(["it's", {"k": "a\\b"}, 1, 0.5, None]) == ["it\\'s", {"k": "a\\\\b"}, 1, 0.5, None]
    for bad in ("nul\x00char", float("nan"), {"bad key": 1}):
        with pytest.raises(ValueError):
            d.encode(bad)
    assert make_dialect("neo4j").encode("it's") == "it's"
    with pytest.raises(ValueError):
        make_dialect("oracle")
    # the size estimate is an upper bound on the literal FalkorDB writes
    assert d.encode_sized(["a'b", 0.3333333333333333, {"x": True}])[1] >= len("['a\\'b', 0.333333, {x: true}]")
    assert d.encode_sized("é")[1] == 4  # UTF-8 bytes and quotes
    with pytest.raises(ValueError, match="does not fit"):
        d.prepare("RETURN $x", {"x": "x" * 5000})


def test_schema_file_matches_the_neo4j_dialect() -> None:
    text = (ROOT / "graphs" / "schema.cypher").read_text(encoding="utf-8")
    statements = [" ".join(m.split()) for m in re.findall(r"^(CREATE [^;]+);", text, flags=re.MULTILINE)]
    assert statements == Dialect().schema_statements()


def test_vector_index_ddl_is_validated() -> None:
    for name in ("neo4j5", "falkordb", "memgraph"):
        assert "Query" in (make_dialect(name).vector_index_statement("Query", "vec", 8) or "")
        with pytest.raises(ValueError):
            make_dialect(name).vector_index_statement("Query", "vec) DELETE n //", 8)
        with pytest.raises(ValueError):
            make_dialect(name).vector_index_statement("Query", "vec", 0)


def test_unreachable_server_fails_fast_with_one_clear_line() -> None:
    port = free_port()
    start = time.monotonic()
    with pytest.raises(StoreConnectionError) as err:
        Neo4jStore.from_url(f"bolt://agentroute:{SECRET}@127.0.0.1:{port}")
    assert time.monotonic() - start < 5
    msg = str(err.value)
    assert f"bolt://127.0.0.1:{port}" in msg and "unreachable" in msg
    assert SECRET not in msg and "\n" not in msg


# -- against the Bolt test server ---------------------------------------------------------------------------


@pytest.mark.neo4j
def test_open_store_resolves_bolt_urls(bolt_uri: str, neo4j_store: Neo4jStore) -> None:
    store = open_store(bolt_uri)
    try:
        assert isinstance(store, Neo4jStore)
        store.upsert_nodes("Agent", [{"id": "via-url"}])
        assert neo4j_store.get_node("Agent", "via-url") == {"id": "via-url"}
    finally:
        store.close()


@pytest.mark.neo4j
def test_opening_and_reading_leave_the_database_schema_alone(bolt_uri: str, neo4j_store: Neo4jStore) -> None:
    # The constraints and indexes are created by the first write, not by opening a store to read it.
    calls: list[str] = []
    with Neo4jStore.from_url(bolt_uri) as store:
        real = store._dialect.ensure_schema
        store._dialect.ensure_schema = lambda run: (calls.append("schema"), real(run))[1]  # type: ignore[method-assign]
        assert (store.nodes("Query"), store.counts()["Query"], list(store.history())) == ([], 0, [])
        assert calls == []
        store.upsert_nodes("Agent", [{"id": "a"}])
        store.upsert_nodes("Agent", [{"id": "b"}])
        assert calls == ["schema"] and len(store.nodes("Agent")) == 2


@pytest.mark.neo4j
def test_dialect_comes_from_a_probe_not_the_agent_string(bolt_uri: str, neo4j_store: Neo4jStore) -> None:
    target = parse_bolt_url(bolt_uri)
    auth = (target["user"], target["password"] or "") if target["user"] else None
    driver = neo4j.GraphDatabase.driver(target["uri"], auth=auth)
    try:
        agent = driver.get_server_info().agent
    finally:
        driver.close()
        where = urlsplit(target["uri"])
        clear_stale_bolt_slot(where.hostname, where.port)
    if neo4j_store.dialect.name == "falkordb":
        assert agent.startswith("Neo4j/")  # FalkorDB claims to be Neo4j; the probe knows better
    explicit = Neo4jStore.from_url(bolt_uri, dialect=neo4j_store.dialect.name)
    try:
        assert explicit.dialect.name == neo4j_store.dialect.name
    finally:
        explicit.close()


@pytest.mark.neo4j
def test_wrong_credentials_are_a_connection_error_without_the_password(bolt_uri: str) -> None:
    start = time.monotonic()
    with pytest.raises(StoreConnectionError) as err:
        Neo4jStore(parse_bolt_url(bolt_uri)["uri"], user="agentroute-nobody", password=SECRET)
    assert time.monotonic() - start < 10
    assert SECRET not in str(err.value) and "\n" not in str(err.value)
    start = time.monotonic()
    Neo4jStore.from_url(bolt_uri).close()  # the server still takes new connections promptly
    assert time.monotonic() - start < 2


@pytest.mark.neo4j
def test_unusable_database_name_is_a_connection_error(bolt_uri: str, neo4j_store: Neo4jStore) -> None:
    # Neo4j: the database does not exist; FalkorDB: Bolt cannot select one at all (cypher_dialect, item 12)
    with pytest.raises(StoreConnectionError, match="database 'agentroute-no-such-db'"):
        Neo4jStore.from_url(bolt_uri, database="agentroute-no-such-db")
    assert sum(neo4j_store.counts().values()) == 0  # nothing written on the way


@pytest.mark.neo4j
def test_reopening_after_close_is_fast(bolt_uri: str) -> None:
    for _ in range(3):
        start = time.monotonic()
        Neo4jStore.from_url(bolt_uri).close()
        assert time.monotonic() - start < 2
    closed = Neo4jStore.from_url(bolt_uri)
    closed.close()
    with pytest.raises(RuntimeError, match="is closed"):
        closed.counts()


@pytest.mark.neo4j
def test_batches_split_to_fit_and_oversized_rows_write_nothing(neo4j_store: Neo4jStore, bolt_uri: str) -> None:
    small = Neo4jStore.from_url(bolt_uri, batch_size=3)
    try:
        rows = [{"id": f"e{i:03d}", "text": f"entity {i} " + "x" * 100} for i in range(300)]
        assert small.upsert_nodes("Entity", rows) == 300
        assert neo4j_store.nodes("Entity") == rows
    finally:
        small.close()
    big = "long text " * 1000
    runs = [RunRecord(qid=f"q{i}", question="short", agents={"a": AgentRecord(score=1.0)}) for i in range(5)]
    runs.append(RunRecord(qid="q-big", question=big, agents={"a": AgentRecord(score=1.0)}))
    before = neo4j_store.counts()
    if neo4j_store.dialect.max_statement_bytes is None:
        neo4j_store.record_many(runs, [[] for _ in runs])
        assert neo4j_store.get_node("Query", "q-big")["text"] == big
    else:
        with pytest.raises(ValueError, match="does not fit"):
            neo4j_store.record_many(runs, [[] for _ in runs])
        assert neo4j_store.counts() == before  # refused before anything was written
        neo4j_store.upsert_nodes("Entity", [{"id": "alive"}])  # and the server is still up
        assert neo4j_store.get_node("Entity", "alive") == {"id": "alive"}


@pytest.mark.neo4j
def test_neighbourhood_of_many_entities(neo4j_store: Neo4jStore) -> None:
    ids = [f"entity number {i}" for i in range(1500)]
    neo4j_store.upsert_edges("RELATED", [{"src": e, "dst": "hub", "kind": "near"} for e in ids])
    rows = neo4j_store.neighbourhood(ids)
    assert len(rows) == 1500 and {r["src"] for r in rows} == set(ids)


@pytest.mark.neo4j
def test_property_values_are_checked_and_numpy_is_unwrapped(neo4j_store: Neo4jStore) -> None:
    neo4j_store.upsert_nodes("Query", [{"id": "q", "vec": np.array([0.5, 0.25], dtype=np.float32), "n": np.int64(3)}])
    assert neo4j_store.get_node("Query", "q") == {"id": "q", "vec": [0.5, 0.25], "n": 3}
    for bad in ({"nested": 1}, [1.0, "a"], [[1.0]], object()):
        with pytest.raises(ValueError):
            neo4j_store.upsert_nodes("Query", [{"id": "bad", "p": bad}])
    with pytest.raises(ValueError):
        neo4j_store.upsert_nodes("Query", [{"id": "bad", "not an identifier": 1}])
    assert neo4j_store.get_node("Query", "bad") is None


@pytest.mark.neo4j
def test_vector_index_is_created_once(neo4j_store: Neo4jStore) -> None:
    assert neo4j_store.ensure_vector_index(4) is True
    assert neo4j_store.ensure_vector_index(4) is True  # idempotent
    neo4j_store.upsert_nodes("Query", [{"id": "q", "vec": [0.5, 0.5, 0.5, 0.5]}])
    assert neo4j_store.get_node("Query", "q") == {"id": "q", "vec": [0.5, 0.5, 0.5, 0.5]}


# -- same records in, same routing inputs out ---------------------------------------------------------------

AGENTS = [
    AgentSpec(name="factual", description="Retrieval-augmented factual lookup", skills=["trivia", "history"]),
    AgentSpec(name="multihop", description="Multi-hop reasoning over several facts", skills=["bridge questions"]),
    AgentSpec(name="math", description="Arithmetic word problems", skills=["arithmetic", "numbers"]),
    AgentSpec(name="commonsense", description="Everyday commonsense reasoning", skills=["science"]),
]


def _records(n: int) -> list[RunRecord]:
    """A slice of the MoRE routing log, or generated look-alikes when the data folder is absent."""
    rng = random.Random(7)
    cities, people = ["Paris", "Rome", "New York", "Tokyo"], ["Marie Curie", "Alan Turing", "Ada Lovelace"]
    return [
        RunRecord(
            qid=f"gen-{i}",
            question=f"Did {rng.choice(people)} ever visit {rng.choice(cities)} in {1900 + i}?",
            agents={
                a.name: AgentRecord(score=float(rng.random() < 0.5), pred=rng.choice(["yes", "no"])) for a in AGENTS
            },
        )
        for i in range(n)
    ]


def _snapshot(g: QueryGraph) -> tuple:
    similar = [(p.id, p.text, round(p.similarity, 6), p.scores, p.costs) for p in g.similar]
    return (
        g.query.id,
        g.entities,
        g.entity_kinds,
        g.n_mentioned,
        sorted(g.related),
        g.agent_names,
        g.covers,
        similar,
        g.query_vec.tolist(),
        g.entity_vecs.tolist(),
        g.past_vecs.tolist(),
    )


def _graphs(store: GraphStore, records: list[RunRecord], queries: list[Query]) -> list[QueryGraph]:
    counts = ingest_records(store, records, agents=AGENTS, batch_size=64, link_entities=True)
    entities = [n["id"] for n in store.nodes("Entity")]
    store.upsert_edges("COVERS", [{"src": AGENTS[i % 4].name, "dst": e} for i, e in enumerate(entities[::7])])
    for kind, step in (("next", 1), ("skip", 5)):  # up to four neighbours per entity, so the cap bites
        store.upsert_edges("RELATED", [{"src": a, "dst": b, "kind": kind} for a, b in zip(entities, entities[step:])])
    assert counts["queries"] == len(records)
    return QueryGraphBuilder(store, AGENTS, k_similar=5, max_neighbours=8).build_many(queries)


@pytest.mark.neo4j
def test_routing_inputs_are_identical_to_the_networkx_store(neo4j_store: Neo4jStore) -> None:
    records = _records(150)
    queries = [Query(id=r.qid, text=r.question) for r in records[:25]]
    queries.append(Query(id="new", text="Who was the first president of the United States?"))
    reference = NetworkXStore()
    want = _graphs(reference, records, queries)
    got = _graphs(neo4j_store, records, queries)
    assert neo4j_store.counts() == reference.counts()
    assert list(neo4j_store.history()) == list(reference.history())
    assert [_snapshot(g) for g in got] == [_snapshot(g) for g in want]
    assert sum(len(g.related) for g in got) > 0 and sum(len(g.similar) for g in got) > 0
    assert any(len(g.entities) > g.n_mentioned for g in got)  # neighbours came from the store


@pytest.mark.neo4j
def test_store_opens_after_another_client_left_a_stale_bolt_slot(bolt_uri: str, neo4j_store: Neo4jStore) -> None:
    """FalkorDB does not answer the handshake after another client's GOODBYE (cypher_dialect difference 9):
    a client that does not clear up after itself must not make the next store open fail."""
    target = parse_bolt_url(bolt_uri)
    auth = (target["user"], target["password"] or "") if target["user"] else None
    rude = neo4j.GraphDatabase.driver(target["uri"], auth=auth)
    rude.verify_connectivity()
    rude.close()  # GOODBYE, and no clean-up of the slot it leaves
    store = Neo4jStore.from_url(bolt_uri, connect_timeout=2.0)
    try:
        store.upsert_nodes("Agent", [{"id": "after-goodbye"}])
        assert neo4j_store.get_node("Agent", "after-goodbye") == {"id": "after-goodbye"}
    finally:
        store.close()
