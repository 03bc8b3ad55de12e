"""End to end through the CLI: the same commands give the same routing on a Bolt store and a file store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentroute.cli import app
from agentroute.kg.stores.neo4j_store import Neo4jStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_cli import write_log  # noqa: E402

runner = CliRunner()

POOL = """
from agentroute import agent

@agent(name="math", description="adds numbers", skills=["arithmetic"])
def math(q):
    nums = [int(t) for t in q.text.replace("?", " ").split() if t.isdigit()]
    return str(sum(nums))

@agent(name="trivia", description="knows who wrote books", skills=["books"])
def trivia(q):
    return "author " + "".join(c for c in q.text if c.isdigit())

@agent(name="guesser", description="guesses")
def guesser(q):
    return "42"
"""


def clear(uri: str) -> None:
    store = Neo4jStore.from_url(uri)
    store.clear()
    store.close()


def cli(*args: str) -> dict:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.neo4j
def test_ingest_train_and_ask_match_between_bolt_and_file_stores(tmp_path: Path, bolt_uri: str) -> None:
    clear(bolt_uri)
    log = write_log(tmp_path / "log.jsonl", n=40)
    pool = tmp_path / "pool.py"
    pool.write_text(POOL)
    stores = [bolt_uri, f"file:{tmp_path / 'kg.json'}"]
    counts = [cli("kg", "ingest", "--logs", str(log), "--store", s, "--json") for s in stores]
    assert counts[0] == counts[1]
    stats = [cli("kg", "stats", "--store", s, "--json") for s in stores]
    assert stats[0] == stats[1] and stats[0]["PERFORMED"] == 120

    for question in ["What is 300 plus 45?", "Who wrote book number 7 of the saga?"]:
        answers = [
            cli("ask", question, "--agents", str(pool), "--store", s, "--router", "knn", "--json") for s in stores
        ]
        assert answers[0] == answers[1]
    assert answers[0]["selected"] == ["trivia"] and answers[0]["answer"] == "author 7"

    for s, name in zip(stores, ["bolt", "file"]):
        summary = cli("train", "--store", s, "--out", str(tmp_path / f"{name}.pt"), "--epochs", "2", "--json")
        assert summary["questions"] == 40 and summary["agents"] == 3
    clear(bolt_uri)


def test_ingest_refuses_two_questions_under_one_qid_and_writes_nothing(tmp_path: Path) -> None:
    log = tmp_path / "dup.jsonl"
    rows = [
        {"qid": "q1", "question": "What is 2 + 2?", "agents": {"a": {"score": 1.0}}},
        {"qid": "q1", "question": "Who wrote Dune?", "agents": {"a": {"score": 0.0}}},
    ]
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    store = tmp_path / "kg.json"
    result = runner.invoke(app, ["kg", "ingest", "--logs", str(log), "--store", f"file:{store}", "--json"])
    assert result.exit_code == 2
    assert "questions 1 and 2 (counted without blank lines) share the qid 'q1'" in " ".join(result.stderr.split())
    assert not store.exists()


def test_store_urls_are_shown_without_their_password(tmp_path: Path) -> None:
    """``kg stats``/``bootstrap``/``ingest`` and ask's cold-start line name the store: never its password
    (a Bolt server accepting the login is stood in for by an in-memory store under another scheme)."""
    from agentroute.kg.store import open_store, register_store

    register_store("pwtest", lambda url: open_store("memory"))
    store = "pwtest://neo4j:Hunter2Secret@db.example:7687"
    log = write_log(tmp_path / "log.jsonl")
    (tmp_path / "pool.py").write_text(POOL)
    for args in (
        ["kg", "stats", "--store", store],
        ["kg", "bootstrap", "--store", store],
        ["kg", "ingest", "--logs", str(log), "--store", store],
        ["ask", "What is 2 plus 3?", "--agents", str(tmp_path / "pool.py"), "--store", store],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.stderr
        shown = "".join((result.stdout + result.stderr).split())  # tables wrap long titles
        assert "pwtest://***@db.example:7687" in shown and "Hunter2" not in shown
