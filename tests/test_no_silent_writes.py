"""Nothing writes into a store the user names unless asked: ``ask`` and ``kg show`` only read it, and the
built-in suite is loaded by ``agentroute kg bootstrap`` (or ``commands.bootstrap_suite``)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentroute.cli import app
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.suite import World

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def snapshot(path: Path) -> tuple[bytes, int] | None:
    return (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None


def test_ask_and_kg_show_leave_an_empty_file_store_unchanged(tmp_path: Path) -> None:
    absent = tmp_path / "absent.json"
    world_only = tmp_path / "world.json"  # entities and relations, but no history
    store = NetworkXStore(world_only)
    World.generate(0).load_into(store)
    store.close()
    for path in (absent, world_only):
        before = snapshot(path)
        code, stdout, stderr = run("ask", "What is 12 * 7?", "--store", f"file:{path}", "--json")
        assert code == 0, stderr
        assert json.loads(stdout)["answer"] == "84"
        assert "agentroute kg bootstrap --store" in stderr
        code, stdout, stderr = run("kg", "show", "What is 12 * 7?", "--store", f"file:{path}", "--json")
        assert code == 0, stderr
        assert json.loads(stdout)["similar"] == []
        assert snapshot(path) == before, path


def test_kg_bootstrap_loads_the_suite_once_and_ask_then_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "kg.json"
    code, stdout, stderr = run("kg", "bootstrap", "--store", f"file:{path}", "--json")
    assert code == 0, stderr
    counts = json.loads(stdout)
    assert counts["questions"] == 600 and counts["agents"] == 7 and counts["entities"] > 0
    code, stdout, _ = run("kg", "stats", "--store", f"file:{path}", "--json")
    assert json.loads(stdout)["PERFORMED"] == 600 * 7
    before = snapshot(path)
    code, stdout, stderr = run("ask", "What is 12 * 7?", "--store", f"file:{path}", "--json")
    assert code == 0 and json.loads(stdout)["answer"] == "84"
    assert "bootstrap" not in stderr
    question = "Which nation hosts the headquarters of Shith Dynamics?"
    code, stdout, stderr = run("kg", "show", question, "--store", f"file:{path}", "--json")
    assert code == 0, stderr
    shown = json.loads(stdout)
    mentioned = {e["id"]: e["kind"] for e in shown["entities"] if e["mentioned"]}
    neighbours = {e["id"] for e in shown["entities"] if not e["mentioned"]}
    assert mentioned.get("shith dynamics") == "span" and neighbours  # the company, and what the world links to it
    assert all("shith dynamics" in (a, b) or {a, b} <= neighbours | set(mentioned) for a, b, _ in shown["related"])
    assert any("shith dynamics" in (a, b) for a, b, _ in shown["related"])
    similar = shown["similar"]
    assert len(similar) == 10 and all(p["text"] != question for p in similar)
    assert [p["similarity"] for p in similar] == sorted((p["similarity"] for p in similar), reverse=True)
    assert all(set(p["scores"]) <= set(shown["agents"]) and p["scores"] for p in similar)
    assert snapshot(path) == before
    code, _, stderr = run("kg", "bootstrap", "--store", f"file:{path}")
    assert code == 2
    assert stderr.strip() == f"error: store file:{path} already has history: bootstrap an empty store"


def test_the_in_memory_default_bootstraps_and_says_so_even_with_json() -> None:
    code, stdout, stderr = run("ask", "What is 12 * 7?", "--json")
    assert code == 0 and json.loads(stdout)["answer"] == "84"
    assert "in-memory store: loading the built-in suite's history first" in stderr
