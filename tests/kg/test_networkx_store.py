"""NetworkXStore specifics: persistence (round trip, atomic write, bad files) and record/history shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentroute.kg.store import open_store
from agentroute.kg.stores.networkx_store import NetworkXStore, StoreFileError
from agentroute.types import RunRecord

GEO = {"id": "geo", "skills": ["maps", "capitals"], "cost_per_call": 0.5}


def _run(qid: str, question: str = "Where is the Eiffel Tower?", **agents: dict) -> RunRecord:
    return RunRecord(qid=qid, question=question, dataset="toy", split="test", gold=["Paris"], agents=agents)


def _filled(store: NetworkXStore) -> NetworkXStore:
    store.upsert_nodes("Agent", [GEO])
    geo = {"score": 1.0, "pred": "Paris", "cost_usd": 0.01, "steps": 3}
    store.record(_run("q2", geo=geo), ["eiffel tower"])
    store.record(_run("q1", "What is 2+2?", calc={"score": 0.0, "pred": "5", "latency_s": 0.2}), ["2"])
    store.upsert_edges("RELATED", [{"src": "eiffel tower", "dst": "paris", "kind": "located_in", "w": 0.7}])
    store.upsert_edges("COVERS", [{"src": "geo", "dst": "paris"}])
    return store


def test_record_writes_query_agents_entities_and_performed_edges() -> None:
    store = _filled(NetworkXStore())
    assert store.get_node("Query", "q2") == {
        "id": "q2",
        "text": "Where is the Eiffel Tower?",
        "dataset": "toy",
        "split": "test",
        "gold": ["Paris"],
    }
    assert store.get_node("Entity", "eiffel tower") == {"id": "eiffel tower"}
    assert store.get_node("Agent", "geo") == GEO
    assert store.edges("PERFORMED", src="q2") == [
        {"src": "q2", "dst": "geo", "score": 1.0, "cost": 0.01, "pred": "Paris", "steps": 3.0}
    ]
    assert store.edges("MENTIONS", dst="2") == [{"src": "q1", "dst": "2"}]
    counts = store.counts()
    assert counts == {
        "Query": 2,
        "Entity": 3,
        "Agent": 2,
        "MENTIONS": 2,
        "RELATED": 1,
        "COVERS": 1,
        "SIMILAR": 0,
        "PERFORMED": 2,
    }


def test_nodes_lists_one_label_ordered_by_id() -> None:
    store = _filled(NetworkXStore())
    assert [n["id"] for n in store.nodes("Query")] == ["q1", "q2"]
    assert store.nodes("Agent") == [{"id": "calc"}, GEO]
    assert [n["id"] for n in store.nodes("Entity")] == ["2", "eiffel tower", "paris"]


def test_query_without_gold_has_no_gold_property() -> None:
    store = NetworkXStore()
    store.record(RunRecord(qid="q", question="x", agents={"a": {"score": 1.0}}))
    assert "gold" not in store.get_node("Query", "q")


def test_history_is_sorted_and_skips_queries_without_performed_edges() -> None:
    store = _filled(NetworkXStore())
    store.upsert_nodes("Query", [{"id": "q0", "text": "never run"}])
    runs = list(store.history())
    assert [r.qid for r in runs] == ["q1", "q2"]
    assert runs[0].agents["calc"].latency_s == pytest.approx(0.2)
    assert runs[0].agents["calc"].pred == "5"
    assert runs[1].agents["geo"].cost_usd == pytest.approx(0.01)
    assert runs[1].gold == ["Paris"] and runs[1].dataset == "toy"


def test_upsert_merges_properties_and_none_removes() -> None:
    store = NetworkXStore()
    store.upsert_nodes("Entity", [{"id": "paris", "kind": "span", "text": "Paris"}])
    store.upsert_nodes("Entity", [{"id": "paris", "text": None, "pop": 2.1}])
    assert store.get_node("Entity", "paris") == {"id": "paris", "kind": "span", "pop": 2.1}
    store.upsert_edges("RELATED", [{"src": "a", "dst": "b", "kind": "x", "w": 1.0}])
    store.upsert_edges("RELATED", [{"src": "a", "dst": "b", "kind": "x", "w": 2.0}])
    store.upsert_edges("RELATED", [{"src": "a", "dst": "b", "kind": "y"}])
    rows = store.edges("RELATED", src="a")
    assert sorted((r["kind"], r.get("w")) for r in rows) == [("x", 2.0), ("y", None)]


def test_neighbourhood_returns_related_both_directions_and_covers() -> None:
    store = _filled(NetworkXStore())
    rows = store.neighbourhood(["paris"])
    assert {(r["rel"], r["src"], r["dst"]) for r in rows} == {
        ("RELATED", "eiffel tower", "paris"),
        ("COVERS", "geo", "paris"),
    }
    related = store.neighbourhood(["eiffel tower", "paris"])
    assert sum(r["rel"] == "RELATED" for r in related) == 1  # de-duplicated
    assert store.neighbourhood(["unknown"]) == []


def test_delete_query_removes_its_edges() -> None:
    store = _filled(NetworkXStore())
    assert store.delete_query("q2") is True
    assert store.delete_query("q2") is False
    assert store.get_node("Query", "q2") is None
    assert store.edges("PERFORMED", dst="geo") == []
    assert [r.qid for r in store.history()] == ["q1"]


def test_rejects_unknown_labels_and_rows_without_id() -> None:
    store = NetworkXStore()
    with pytest.raises(ValueError, match="label"):
        store.upsert_nodes("Person", [{"id": "x"}])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="relationship"):
        store.upsert_edges("KNOWS", [{"src": "a", "dst": "b"}])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="id"):
        store.upsert_nodes("Entity", [{"text": "no id"}])


def test_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "kg.json"
    store = _filled(NetworkXStore(path))
    store.close()
    doc = json.loads(path.read_text())
    assert doc["format_version"] == 1
    again = open_store(f"file:{path}")
    assert again.counts() == store.counts()
    assert list(again.history()) == list(store.history())
    assert again.get_node("Agent", "geo") == GEO
    assert again.neighbourhood(["paris"]) == store.neighbourhood(["paris"])
    assert isinstance(again, NetworkXStore) and again.graph.number_of_nodes() == 7


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kg.json"
    store = _filled(NetworkXStore(path))
    store.flush()
    before = path.read_bytes()
    store.record(_run("q3", geo={"score": 0.5}), [])

    real_dumps = json.dumps

    def broken_dumps(obj: object, **kw: object) -> str:
        if isinstance(obj, list):  # the header is written, then a crash part of the way through
            raise OSError("disk full")
        return real_dumps(obj, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(json, "dumps", broken_dumps)
    with pytest.raises(OSError, match="disk full"):
        store.flush()
    assert path.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["kg.json"]  # no temp file left behind
    monkeypatch.undo()
    store.close()
    assert [r.qid for r in NetworkXStore(path).history()] == ["q1", "q2", "q3"]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not a readable"),
        ('{"nodes": []}', "no format_version"),
        ('{"format_version": 99, "nodes": [], "edges": []}', "format_version 99"),
        ('{"format_version": 1, "nodes": [{"label": "Alien", "props": {"id": "x"}}], "edges": []}', "malformed"),
        (
            '{"format_version": 1, "nodes": [], "edges": [{"rel": "PERFORMED", "src": "q", "dst": "a", '
            '"props": {"score": "high"}}]}',
            "PERFORMED 'q' -> 'a': 'score' must be a finite number, got 'high'",
        ),
    ],
)
def test_bad_file_names_the_file(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(StoreFileError, match=match) as info:
        NetworkXStore(path)
    assert str(path) in str(info.value)


def test_memory_store_flush_is_a_no_op_and_clear_empties() -> None:
    store = _filled(open_store("memory"))
    store.close()
    store.clear()
    assert set(store.counts().values()) == {0}
    assert list(store.history()) == []


def test_a_file_saved_by_another_writer_is_not_overwritten(tmp_path: Path) -> None:
    """Two processes on one file (``serve`` and ``kg ingest``): the second to save keeps both graphs."""
    path = tmp_path / "g.json"
    with NetworkXStore(path) as first:
        first.record(_run("q0", geo={"score": 1.0}), [])
    served, ingest = NetworkXStore(path), NetworkXStore(path)
    served.record(_run("served-1", geo={"score": 1.0}), [])
    ingest.record(_run("ingested-1", geo={"score": 1.0}), [])
    ingest.close()
    with pytest.raises(StoreFileError, match="changed on disk since this store loaded it") as raised:
        served.close()
    aside = tmp_path / next(p.name for p in tmp_path.iterdir() if ".conflict-" in p.name)
    assert str(aside) in str(raised.value)
    assert [r.qid for r in NetworkXStore(path).history()] == ["ingested-1", "q0"]
    assert [r.qid for r in NetworkXStore(aside).history()] == ["q0", "served-1"]
    served.record(_run("served-2", geo={"score": 1.0}), [])  # the store goes on saving beside the file, never over it
    served.flush()
    assert [r.qid for r in NetworkXStore(path).history()] == ["ingested-1", "q0"]
    assert [r.qid for r in NetworkXStore(aside).history()] == ["q0", "served-1", "served-2"]


def test_a_file_another_writer_created_after_this_store_opened_is_not_overwritten(tmp_path: Path) -> None:
    """The store opened a path with no file yet; another process created it before this one saved."""
    path = tmp_path / "g.json"
    late = NetworkXStore(path)
    late.record(_run("late-1", geo={"score": 1.0}), [])
    with NetworkXStore(path) as early:
        early.record(_run("early-1", geo={"score": 1.0}), [])
    with pytest.raises(StoreFileError, match="changed on disk since this store loaded it"):
        late.close()
    assert [r.qid for r in NetworkXStore(path).history()] == ["early-1"]
    aside = next(p for p in tmp_path.iterdir() if ".conflict-" in p.name)
    assert [r.qid for r in NetworkXStore(aside).history()] == ["late-1"]


def test_a_file_only_touched_is_not_a_conflict(tmp_path: Path) -> None:
    """A backup tool or ``touch`` changes the time stamp, not the graph: the store saves over it."""
    import os

    path = tmp_path / "g.json"
    with NetworkXStore(path) as first:
        first.record(_run("q0", geo={"score": 1.0}), [])
    store = NetworkXStore(path)
    store.record(_run("q1", geo={"score": 1.0}), [])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    store.flush()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 9_000_000_000))  # after its own save too
    store.record(_run("q2", geo={"score": 1.0}), [])
    store.close()
    assert [r.qid for r in NetworkXStore(path).history()] == ["q0", "q1", "q2"]
    assert not [p for p in tmp_path.iterdir() if ".conflict-" in p.name]


def test_a_saved_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    with NetworkXStore(path) as store:
        store.record(_run("q1", geo={"score": 1.0}), [])
    path.chmod(0o644)
    with NetworkXStore(path) as store:
        store.record(_run("q2", geo={"score": 1.0}), [])
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("chunk", [1, 2, 7, 10_000])
def test_the_file_holds_exactly_json_dumps_of_the_graph(chunk: int) -> None:
    """Saved list by list (bounded memory, the C encoder), the bytes are those of one ``json.dumps``."""
    import io

    from agentroute.kg.stores.networkx_store import _dump_json

    docs = [
        {"format_version": 1, "nodes": [], "edges": []},
        {"format_version": 1, "nodes": [{"label": "Query", "props": {"id": "é – 東京", "v": [1.0, 2.5]}}] * 25},
        {"a": "x", "b": [1, [2], {"c": None}], "d": {"e": [1]}},
    ]
    for doc in docs:
        out = io.BytesIO()
        _dump_json(doc, out, chunk)
        assert out.getvalue() == json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
