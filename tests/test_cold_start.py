"""A user's first day: their own pool on an empty store is routed by the agents' descriptions, and an agent
added later (no history) is too, while the rest of the pool is routed by history."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentroute.cli import app

runner = CliRunner()

POOL = """
import re
from agentroute import Query, agent

@agent(name="calculator", description="Does arithmetic: adds, subtracts, multiplies and divides numbers.",
       skills=["math"])
def calculator(q: Query) -> str:
    a, op, b = re.search(r"(\\d+) (plus|times) (\\d+)", q.text).groups()
    return str(int(a) + int(b) if op == "plus" else int(a) * int(b))

@agent(name="atlas", description="Knows the capital city of every country.", skills=["geography"])
def atlas(q: Query) -> str:
    capitals = {"Japan": "Tokyo", "France": "Paris", "Peru": "Lima", "Kenya": "Nairobi"}
    return capitals.get(q.text.split()[-1].rstrip("?"), "?")

@agent(name="bard", description="Writes short poems about any topic.", skills=["poetry"])
def bard(q: Query) -> str:
    return "a poem about " + q.text.rstrip(".").split(" about ")[-1]
"""

TRANSLATOR = """
@agent(name="translator", description="Translates English words into French.", skills=["translation"])
def translator(q: Query) -> str:
    return {"cat": "chat", "dog": "chien"}.get(q.text.split()[3], "?")
"""

QUESTIONS = {
    "calculator": "What is 17 plus 25?",
    "atlas": "What is the capital of Japan?",
    "bard": "Write a poem about the sea.",
}


def ask(question: str, pool: Path, store: str, *options: str) -> tuple[dict, str]:
    result = runner.invoke(app, ["ask", question, "--agents", str(pool), "--store", store, "--json", *options])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), result.stderr


@pytest.mark.parametrize("router", [[], ["--router", "gnn"], ["--router", "gnn-top1"], ["--router", "mlp"]])
def test_empty_store_routes_by_description(tmp_path: Path, router: list[str]) -> None:
    """Whatever the router: an untrained GNN too (it used to fail the question: not trained)."""
    pool = tmp_path / "mine.py"
    pool.write_text(POOL)
    for expected, question in QUESTIONS.items():
        out, stderr = ask(question, pool, "memory", *router)
        assert out["selected"] == [expected], (question, out["probs"])
        assert max(out["probs"], key=out["probs"].get) == expected
        assert "cold start" in stderr and "atlas, bard, calculator" in stderr
        assert out["rationale"].startswith("cold start")


def test_new_agent_without_history_is_routed_by_description(tmp_path: Path) -> None:
    pool = tmp_path / "mine.py"
    pool.write_text(POOL)
    rows = []
    for i in range(4):
        rows.append({"id": f"add{i}", "question": f"What is {i + 3} plus {i * 5}?", "answer": str(2 * i + 3 + i * 3)})
        rows.append({"id": f"mul{i}", "question": f"What is {i + 2} times {i + 4}?", "answer": str((i + 2) * (i + 4))})
    for country, capital in [("France", "Paris"), ("Peru", "Lima"), ("Kenya", "Nairobi")]:
        rows.append({"id": country, "question": f"What is the capital of {country}?", "answer": capital})
    for topic in ["the moon", "rain", "a river", "winter"]:
        rows.append({"id": topic, "question": f"Write a poem about {topic}.", "answer": f"a poem about {topic}"})
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = f"file:{tmp_path / 'routing.json'}"
    result = runner.invoke(
        app,
        [
            "profile",
            "--data",
            str(data),
            "--agents",
            str(pool),
            "--out",
            str(tmp_path / "runs.jsonl"),
            "--store",
            store,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr

    # the profiled pool is routed by history: no cold-start notice
    for expected, question in QUESTIONS.items():
        out, stderr = ask(question, pool, store)
        assert out["selected"] == [expected], (question, out["probs"])
        assert "cold start" not in stderr and not out["cold_start"]

    pool.write_text(POOL + TRANSLATOR)
    questions = {**QUESTIONS, "translator": "Translate the word cat into French."}
    for expected, question in questions.items():
        out, stderr = ask(question, pool, store)
        assert out["selected"] == [expected], (question, out["probs"])
        notice = re.search(r"cold start: no history .* for (.*?); routing", stderr.replace("\n", " "))
        assert notice is not None and notice.group(1) == "translator"
    assert out["answer"] == "chat"


def test_cold_start_off_leaves_routing_to_the_router_alone(tmp_path: Path) -> None:
    from agentroute import AgentRoute, Query, load_agents

    pool = tmp_path / "mine.py"
    pool.write_text(POOL)
    agents = load_agents(pool)
    with AgentRoute(agents, "knn") as on, AgentRoute(agents, "knn", cold_start=False) as off:
        for expected, question in QUESTIONS.items():
            by_description = on.ask(question).decision
            assert by_description.selected == [expected] and by_description.cold_start
            alone = off.ask(question).decision
            assert alone.cold_start == [] and "cold start" not in alone.rationale
            graph = off.builder.build(Query(id="q", text=question))
            assert alone.router == "knn" and alone.probs == off.router.route(graph).probs
