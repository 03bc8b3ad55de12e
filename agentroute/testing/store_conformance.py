"""The ``GraphStore`` conformance suite: every backend must pass these same assertions.

A third-party store runs it by importing the tests into a test module and providing a ``store`` fixture
that yields an empty store of its kind (closed afterwards)::

    import pytest
    from agentroute.testing.store_conformance import *  # noqa: F403 - pytest collects the tests

    @pytest.fixture
    def store():
        s = MyStore("...")
        yield s
        s.close()

agentroute runs it against the networkx store and a Bolt server (``tests/kg/test_store_conformance.py``).
"""

from __future__ import annotations

import pytest

from agentroute.kg.store import GraphStore
from agentroute.types import AgentRecord, RunRecord

__all__ = [
    "test_is_a_graph_store",
    "test_node_round_trip",
    "test_upsert_twice_updates_without_duplicating",
    "test_edges_create_missing_endpoints_and_filter_by_endpoint",
    "test_related_edge_identity_includes_kind",
    "test_neighbourhood_returns_related_both_ways_and_covers_into_entities",
    "test_record_many_and_history_round_trip",
    "test_recording_again_updates_scores_in_place",
    "test_scoring_a_recorded_run_later_keeps_its_answers",
    "test_float_properties_keep_six_decimals",
    "test_delete_query_removes_node_and_its_edges_only",
    "test_counts_cover_every_label_and_type_and_clear_empties",
    "test_unicode_text_round_trips",
    "test_hostile_ids_and_texts_are_stored_verbatim_never_executed",
    "test_unknown_labels_and_types_are_refused_before_writing",
    "test_rows_without_ids_are_refused",
    "test_a_refused_batch_writes_nothing",
    "test_values_a_store_cannot_keep_are_refused",
    "test_numpy_values_are_kept_as_plain_numbers",
    "test_the_last_of_duplicate_rows_in_one_batch_wins",
    "test_edge_kind_is_text",
]

HOSTILE_IDS = [
    'say "hi"',
    "it's",
    "back`tick`",
    "line\nbreak\tand tab",
    "back\\slash \\' \\\\",
    '"}) DETACH DELETE n //',
    "x' RETURN 1 AS id //",
    "'}) MATCH (m) DETACH DELETE m RETURN 1 //",
    "$rows {id: 1} ${x}",
    "東京 – ñ – 😀 – مرحبا",
]


def _run(qid: str, question: str = "Who wrote Hamlet?", **agents: AgentRecord) -> RunRecord:
    return RunRecord(qid=qid, question=question, dataset="toy", split="test", gold=["Shakespeare"], agents=agents)


def _sorted(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r.get("rel", ""), r["src"], r["dst"], str(r.get("kind", ""))))


def test_is_a_graph_store(store: GraphStore) -> None:
    assert isinstance(store, GraphStore)


def test_node_round_trip(store: GraphStore) -> None:
    row = {"id": "e1", "text": "Hamlet", "n": 3, "w": 0.25, "flag": True, "tags": ["a", "b"], "vec": [0.5, -1.5]}
    assert store.upsert_nodes("Entity", [row, {"id": "e0"}]) == 2
    assert store.get_node("Entity", "e1") == row
    assert store.get_node("Entity", "e0") == {"id": "e0"}
    assert store.get_node("Entity", "missing") is None
    assert store.get_node("Agent", "e1") is None  # the key is per label
    assert [n["id"] for n in store.nodes("Entity")] == ["e0", "e1"]
    assert store.nodes("Agent") == []


def test_upsert_twice_updates_without_duplicating(store: GraphStore) -> None:
    store.upsert_nodes("Agent", [{"id": "calc", "description": "adds", "cost_per_call": 0.5}])
    before = store.counts()
    store.upsert_nodes("Agent", [{"id": "calc", "description": "adds numbers", "skills": ["math"]}])
    assert store.counts() == before
    assert store.get_node("Agent", "calc") == {
        "id": "calc",
        "description": "adds numbers",
        "cost_per_call": 0.5,
        "skills": ["math"],
    }
    store.upsert_nodes("Agent", [{"id": "calc", "description": None}])  # None removes the property
    assert store.get_node("Agent", "calc") == {"id": "calc", "cost_per_call": 0.5, "skills": ["math"]}

    store.upsert_edges("COVERS", [{"src": "calc", "dst": "arithmetic", "w": 0.5}])
    before = store.counts()
    store.upsert_edges("COVERS", [{"src": "calc", "dst": "arithmetic", "w": 0.75}])
    assert store.counts() == before
    assert store.edges("COVERS") == [{"src": "calc", "dst": "arithmetic", "w": 0.75}]


def test_edges_create_missing_endpoints_and_filter_by_endpoint(store: GraphStore) -> None:
    store.upsert_edges(
        "SIMILAR",
        [
            {"src": "q1", "dst": "q2", "sim": 0.5},
            {"src": "q1", "dst": "q3", "sim": 0.25},
            {"src": "q2", "dst": "q3", "sim": 0.125},
        ],
    )
    assert store.get_node("Query", "q3") == {"id": "q3"}
    assert store.counts()["Query"] == 3
    assert _sorted(store.edges("SIMILAR", src="q1")) == [
        {"src": "q1", "dst": "q2", "sim": 0.5},
        {"src": "q1", "dst": "q3", "sim": 0.25},
    ]
    assert _sorted(store.edges("SIMILAR", dst="q3")) == [
        {"src": "q1", "dst": "q3", "sim": 0.25},
        {"src": "q2", "dst": "q3", "sim": 0.125},
    ]
    assert store.edges("SIMILAR", src="q2", dst="q3") == [{"src": "q2", "dst": "q3", "sim": 0.125}]
    assert store.edges("SIMILAR", src="q3") == []
    assert store.edges("RELATED") == []


def test_related_edge_identity_includes_kind(store: GraphStore) -> None:
    store.upsert_edges(
        "RELATED",
        [
            {"src": "a", "dst": "b", "kind": "born_in", "w": 1.0},
            {"src": "a", "dst": "b", "kind": "died_in", "w": 2.0},
            {"src": "a", "dst": "b"},
            {"src": "b", "dst": "a", "kind": "born_in"},
        ],
    )
    assert store.counts()["RELATED"] == 4
    store.upsert_edges("RELATED", [{"src": "a", "dst": "b", "kind": "born_in", "w": 3.0}])
    assert store.counts()["RELATED"] == 4
    assert _sorted(store.edges("RELATED", src="a")) == [
        {"src": "a", "dst": "b"},
        {"src": "a", "dst": "b", "kind": "born_in", "w": 3.0},
        {"src": "a", "dst": "b", "kind": "died_in", "w": 2.0},
    ]


def test_neighbourhood_returns_related_both_ways_and_covers_into_entities(store: GraphStore) -> None:
    store.upsert_edges(
        "RELATED",
        [
            {"src": "paris", "dst": "france", "kind": "capital_of"},
            {"src": "eiffel tower", "dst": "paris", "kind": "located_in", "w": 0.5},
            {"src": "rome", "dst": "italy", "kind": "capital_of"},
        ],
    )
    store.upsert_edges("COVERS", [{"src": "geo", "dst": "paris"}, {"src": "geo", "dst": "rome"}])
    store.record(_run("q1", geo=AgentRecord(score=1.0)), ["paris"])  # MENTIONS is not part of it
    rows = store.neighbourhood(["paris", "paris", "nowhere"])
    assert _sorted(rows) == [
        {"rel": "COVERS", "src": "geo", "dst": "paris"},
        {"rel": "RELATED", "src": "eiffel tower", "dst": "paris", "kind": "located_in", "w": 0.5},
        {"rel": "RELATED", "src": "paris", "dst": "france", "kind": "capital_of"},
    ]
    both = store.neighbourhood(["paris", "france"])  # an edge between two asked-for entities comes once
    assert len(both) == 3
    assert store.neighbourhood([]) == []
    assert store.neighbourhood(["nowhere"]) == []


def test_record_many_and_history_round_trip(store: GraphStore) -> None:
    runs = [
        _run(
            "q2",
            geo=AgentRecord(score=1.0, pred="Paris", cost_usd=0.015625, latency_s=0.5, steps=3),
            calc=AgentRecord(score=None, pred="42"),
        ),
        _run("q10", "What is 6*7?", calc=AgentRecord(score=0.0, pred="41", cost_usd=0.0)),
    ]
    store.record_many(runs, [["paris", "france"], ["6", "7"]])
    store.record(RunRecord(qid="q1", question="no gold here", agents={"geo": AgentRecord(score=0.5)}), ["paris"])
    got = list(store.history())
    assert [r.qid for r in got] == ["q1", "q10", "q2"]
    assert got[2] == runs[0].model_copy(
        update={
            "agents": {
                "geo": AgentRecord(score=1.0, pred="Paris", cost_usd=0.015625, latency_s=0.5, steps=3.0),
                "calc": AgentRecord(pred="42"),
            }
        }
    )
    assert got[2].agents["calc"].score is None
    assert got[1].agents == {"calc": AgentRecord(score=0.0, pred="41", cost_usd=0.0)}
    assert got[0].gold is None and got[0].dataset is None and got[0].question == "no gold here"
    assert store.get_node("Query", "q2") == {
        "id": "q2",
        "text": "Who wrote Hamlet?",
        "dataset": "toy",
        "split": "test",
        "gold": ["Shakespeare"],
    }
    assert _sorted(store.edges("MENTIONS", src="q2")) == [{"src": "q2", "dst": "france"}, {"src": "q2", "dst": "paris"}]
    assert store.counts() == {
        "Query": 3,
        "Entity": 4,
        "Agent": 2,
        "MENTIONS": 5,
        "RELATED": 0,
        "COVERS": 0,
        "SIMILAR": 0,
        "PERFORMED": 4,
    }


def test_recording_again_updates_scores_in_place(store: GraphStore) -> None:
    store.record(_run("q1", geo=AgentRecord(score=0.0, pred="Rome")), ["paris"])
    before = store.counts()
    store.record(_run("q1", geo=AgentRecord(score=1.0, pred="Paris")), ["paris"])
    assert store.counts() == before
    assert [r.agents for r in store.history()] == [{"geo": AgentRecord(score=1.0, pred="Paris")}]


def test_scoring_a_recorded_run_later_keeps_its_answers(store: GraphStore) -> None:
    """What serve's feedback does: a run recorded without scores gets them later on its PERFORMED edges."""
    store.record(_run("q1", a=AgentRecord(pred="Paris", cost_usd=0.25, latency_s=0.5), b=AgentRecord(pred="Rome")))
    store.upsert_nodes("Query", [{"id": "q1", "served_at": 1.5, "called": ["a", "b"]}])
    before = store.counts()
    store.upsert_edges("PERFORMED", [{"src": "q1", "dst": "a", "score": 1.0}, {"src": "q1", "dst": "b", "score": 0.0}])
    assert store.counts() == before
    assert next(store.history()).agents == {
        "a": AgentRecord(score=1.0, pred="Paris", cost_usd=0.25, latency_s=0.5),
        "b": AgentRecord(score=0.0, pred="Rome"),
    }
    node = store.get_node("Query", "q1")
    assert node is not None and node["text"] == "Who wrote Hamlet?" and node["called"] == ["a", "b"]


def test_float_properties_keep_six_decimals(store: GraphStore) -> None:
    store.record(_run("q", a=AgentRecord(score=1 / 3, cost_usd=0.000123)))
    rec = next(store.history()).agents["a"]
    assert rec.score == pytest.approx(1 / 3, abs=1e-6)
    assert rec.cost_usd == pytest.approx(0.000123, abs=1e-6)


def test_delete_query_removes_node_and_its_edges_only(store: GraphStore) -> None:
    store.record_many(
        [_run("q1", geo=AgentRecord(score=1.0)), _run("q2", geo=AgentRecord(score=0.0))], [["paris"], ["paris"]]
    )
    store.upsert_edges("SIMILAR", [{"src": "q1", "dst": "q2"}, {"src": "q2", "dst": "q1"}])
    assert store.delete_query("q1") is True
    assert store.delete_query("q1") is False
    assert store.get_node("Query", "q1") is None
    assert [r.qid for r in store.history()] == ["q2"]
    assert store.edges("SIMILAR") == []
    assert store.edges("MENTIONS") == [{"src": "q2", "dst": "paris"}]
    assert store.get_node("Entity", "paris") == {"id": "paris"}
    assert store.counts() == {
        "Query": 1,
        "Entity": 1,
        "Agent": 1,
        "MENTIONS": 1,
        "RELATED": 0,
        "COVERS": 0,
        "SIMILAR": 0,
        "PERFORMED": 1,
    }


def test_counts_cover_every_label_and_type_and_clear_empties(store: GraphStore) -> None:
    empty = {
        "Query": 0,
        "Entity": 0,
        "Agent": 0,
        "MENTIONS": 0,
        "RELATED": 0,
        "COVERS": 0,
        "SIMILAR": 0,
        "PERFORMED": 0,
    }
    assert store.counts() == empty
    store.upsert_edges("COVERS", [{"src": "geo", "dst": "paris"}])
    store.upsert_edges("RELATED", [{"src": "paris", "dst": "france", "kind": "capital_of"}])
    store.record(_run("q1", geo=AgentRecord(score=1.0)), ["paris"])
    assert store.counts() == empty | {
        "Query": 1,
        "Entity": 2,
        "Agent": 1,
        "MENTIONS": 1,
        "RELATED": 1,
        "COVERS": 1,
        "PERFORMED": 1,
    }
    store.clear()
    assert store.counts() == empty
    assert list(store.history()) == []


def test_unicode_text_round_trips(store: GraphStore) -> None:
    question = "Qui a écrit « L’Étranger » ? 誰が書いた 😀 — ‏مرحبا‎ \u200b"
    store.record(
        RunRecord(qid="q-ü", question=question, gold=["Camus"], agents={"α": AgentRecord(pred="Camus")}),
        ["l’étranger", "誰"],
    )
    (rec,) = store.history()
    assert rec.question == question and rec.qid == "q-ü" and rec.agents == {"α": AgentRecord(pred="Camus")}
    assert _sorted(store.edges("MENTIONS", src="q-ü")) == [
        {"src": "q-ü", "dst": "l’étranger"},
        {"src": "q-ü", "dst": "誰"},
    ]


def test_hostile_ids_and_texts_are_stored_verbatim_never_executed(store: GraphStore) -> None:
    store.upsert_nodes("Entity", [{"id": "keep", "text": "must survive"}])
    store.upsert_nodes("Entity", [{"id": h, "text": h} for h in HOSTILE_IDS])
    store.upsert_edges("RELATED", [{"src": h, "dst": "keep", "kind": h} for h in HOSTILE_IDS])
    store.record_many(
        [_run(h, question=h, **{"a": AgentRecord(pred=h, score=1.0)}) for h in HOSTILE_IDS], [[h] for h in HOSTILE_IDS]
    )
    n = len(HOSTILE_IDS)
    assert store.counts() == {
        "Query": n,
        "Entity": n + 1,
        "Agent": 1,
        "MENTIONS": n,
        "RELATED": n,
        "COVERS": 0,
        "SIMILAR": 0,
        "PERFORMED": n,
    }
    for h in HOSTILE_IDS:
        assert store.get_node("Entity", h) == {"id": h, "text": h}
        assert store.edges("RELATED", src=h) == [{"src": h, "dst": "keep", "kind": h}]
        assert store.edges("MENTIONS", src=h) == [{"src": h, "dst": h}]
    assert store.get_node("Entity", "keep") == {"id": "keep", "text": "must survive"}
    assert {r.qid: (r.question, r.agents["a"].pred) for r in store.history()} == {h: (h, h) for h in HOSTILE_IDS}
    assert len(store.neighbourhood(HOSTILE_IDS)) == n
    assert store.delete_query(HOSTILE_IDS[5]) is True
    assert store.counts()["Query"] == n - 1 and store.get_node("Query", HOSTILE_IDS[6]) is not None


@pytest.mark.parametrize("label", ["Person", "Entity) DETACH DELETE n //", "entity"])
def test_unknown_labels_and_types_are_refused_before_writing(store: GraphStore, label: str) -> None:
    with pytest.raises(ValueError):
        store.upsert_nodes(label, [{"id": "x"}])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.upsert_edges(label, [{"src": "x", "dst": "y"}])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.get_node(label, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.edges(label)  # type: ignore[arg-type]
    assert sum(store.counts().values()) == 0


def test_rows_without_ids_are_refused(store: GraphStore) -> None:
    with pytest.raises(ValueError):
        store.upsert_nodes("Entity", [{"text": "no id"}])
    with pytest.raises(ValueError):
        store.upsert_edges("RELATED", [{"src": "a", "dst": ""}])
    with pytest.raises(ValueError):
        store.record_many([_run("q1")], [])


def test_a_refused_batch_writes_nothing(store: GraphStore) -> None:
    """A bad row anywhere in a batch (an empty entity id, a NaN score) leaves the store as it was."""
    before = store.counts()
    good = _run("q1", math=AgentRecord(score=1.0))
    with pytest.raises(ValueError):
        store.record_many([good, _run("q2", math=AgentRecord(score=0.0))], [["hamlet"], ["ok", ""]])
    with pytest.raises(ValueError):
        store.record_many([good, _run("q2", math=AgentRecord(score=float("nan")))], [[], []])
    with pytest.raises(ValueError):
        store.upsert_nodes("Entity", [{"id": "a", "name": "A"}, {"id": "b", "name": float("inf")}])
    with pytest.raises(ValueError):
        store.upsert_edges("PERFORMED", [{"src": "q1", "dst": "math", "score": "1"}])
    assert store.counts() == before


def test_values_a_store_cannot_keep_are_refused(store: GraphStore) -> None:
    for bad in ({"k": 1}, float("nan"), "lone \udcff surrogate", 2**63, [1, "a"], object()):
        with pytest.raises(ValueError):
            store.upsert_nodes("Entity", [{"id": "e", "value": bad}])
    with pytest.raises(ValueError):
        store.upsert_nodes("Entity", [{"id": "e", "not an identifier": 1}])
    assert store.get_node("Entity", "e") is None


def test_numpy_values_are_kept_as_plain_numbers(store: GraphStore) -> None:
    np = pytest.importorskip("numpy")
    store.upsert_nodes("Entity", [{"id": "e", "n": np.int64(3), "x": np.float32(0.5), "vec": np.array([1, 2.5])}])
    node = store.get_node("Entity", "e")
    assert node == {"id": "e", "n": 3, "x": 0.5, "vec": [1.0, 2.5]}
    assert type(node["n"]) is int and type(node["x"]) is float


def test_the_last_of_duplicate_rows_in_one_batch_wins(store: GraphStore) -> None:
    store.upsert_nodes("Agent", [{"id": "calc", "description": "old"}, {"id": "calc", "description": "new"}])
    assert store.get_node("Agent", "calc") == {"id": "calc", "description": "new"}
    first = RunRecord(qid="q", question="Q?", dataset="old", agents={"math": AgentRecord(score=0.0)})
    again = RunRecord(qid="q", question="Q?", dataset="new", agents={"math": AgentRecord(score=1.0)})
    store.record_many([first, again], [[], []])
    assert store.get_node("Query", "q")["dataset"] == "new"  # type: ignore[index]
    assert [r.agents["math"].score for r in store.history()] == [1.0]


def test_edge_kind_is_text(store: GraphStore) -> None:
    store.upsert_edges("RELATED", [{"src": "a", "dst": "b", "kind": 1}, {"src": "a", "dst": "c", "kind": ""}])
    assert store.edges("RELATED") == [{"src": "a", "dst": "b", "kind": "1"}, {"src": "a", "dst": "c"}]
