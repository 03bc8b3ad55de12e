"""``agents describe`` and ``bench run`` with the LLM routers, through the real openai client and the
scripted Chat Completions server on loopback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentroute.cli import app
from agentroute.testing.chat_server import ChatRequest
from agentroute.types import AgentRecord, RunRecord


@pytest.fixture
def runner(no_llm_env) -> CliRunner:
    return CliRunner()


def write_log(path: Path, n: int = 16) -> Path:
    """'alpha' is right on arithmetic, 'beta' on authors, 'gamma' never; gold answers are the right preds."""
    rows = []
    for i in range(n):
        sums = i % 2 == 0
        gold = str(2 * i + 1) if sums else f"author {i}"
        text = f"What is {i} plus {i + 1}?" if sums else f"Who wrote book number {i}?"
        agents = {
            "alpha": AgentRecord(score=float(sums), pred=gold if sums else "0"),
            "beta": AgentRecord(score=float(not sums), pred="unknown" if sums else gold),
            "gamma": AgentRecord(score=0.0, pred=f"guess {i}"),
        }
        rows.append(RunRecord(qid=f"t{i}", question=text, gold=[gold], agents=agents).model_dump_json())
    path.write_text("\n".join(rows) + "\n")
    return path


def bench_args(log: Path, *extra: str) -> list[str]:
    routers = "reasoning,multiround,best-single"
    return ["bench", "run", "--logs", str(log), "--folds", "2", "--routers", routers, *extra, "--json"]


def describe_args(log: Path, url: str, *extra: str) -> list[str]:
    return ["agents", "describe", "--samples", str(log), *extra, "--base-url", url, "--llm-model", "m", "--json"]


def describer(request: ChatRequest) -> str:
    if "plus" in request.prompt:
        return "```\n<Description>Adds numbers: arithmetic questions.</Description>\n```"
    return "<think>They are all about books.</think><Description>Knows who wrote which book.</Description>"


def test_agents_describe_writes_descriptions_from_good_samples(runner, chat_server, tmp_path):
    server = chat_server(describer)
    log, info = write_log(tmp_path / "log.jsonl"), tmp_path / "agents.json"
    args = describe_args(log, server.url, "--out", str(info), "--per-agent", "3")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    expected = {
        "alpha": {"description": "Adds numbers: arithmetic questions."},
        "beta": {"description": "Knows who wrote which book."},
        "gamma": {"description": ""},
    }
    assert json.loads(result.stdout) == expected == json.loads(info.read_text())
    assert "gamma: description kept as it was (no sample question answered well)" in result.stderr
    alpha = server.chat_requests[0].prompt
    assert alpha.startswith("Agent: alpha\nQuestions it answered correctly:\n- What is 0 plus 1?")
    assert alpha.count("\n- ") == 3  # --per-agent


def test_agents_describe_fails_when_every_description_call_fails(runner, chat_server, tmp_path):
    from agentroute.testing.chat_server import Reply

    server = chat_server(lambda request: Reply(status=400, text="bad request"))
    log, info = write_log(tmp_path / "log.jsonl"), tmp_path / "agents.json"
    result = runner.invoke(app, describe_args(log, server.url, "--out", str(info)))
    assert result.exit_code == 2, result.stderr
    assert "every description call failed, nothing written" in result.stderr
    assert not info.exists()


def test_bench_runs_llm_routers_on_the_same_folds(runner, chat_server, tmp_path):
    def reply(request: ChatRequest) -> str:
        system, question = request.system, request.prompt
        want = "alpha" if "plus" in question else "beta"
        if "router agent" in system:
            agent_id = re.search(rf"<Name>{want}</Name>.*?<ID>(\w+)</ID>", system).group(1)
            return f"<Reason>{want} fits.</Reason><ID>{agent_id}</ID>"
        if "<information>" not in question:
            return f"<think>ask {want}</think><search> {want}: {question.removeprefix('Question: ')}"
        return f"<think>done</think><answer>{re.search(r'<information>(.*?)</information>', question).group(1)}"

    server = chat_server(reply)
    log, info = write_log(tmp_path / "log.jsonl"), tmp_path / "agents.json"
    info.write_text(
        json.dumps({"alpha": "Adds numbers.", "beta": {"description": "Knows authors.", "cost_per_call": 0.01}})
    )
    args = bench_args(log, "--agent-info", str(info), "--base-url", server.url, "--llm-model", "m", "--jobs", "2")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "worker processes" not in result.stderr  # LLM routers keep the folds in this process
    acc = {r["router"]: r["accuracy"] for r in json.loads(result.stdout)["results"]}
    assert acc["reasoning"] == 1.0 and acc["multiround"] == 1.0 and acc["best-single"] == 0.5
    systems = [r.system for r in server.chat_requests]
    assert any("<Description>Adds numbers.</Description>" in s for s in systems)  # from --agent-info
    assert any("- beta: Knows authors. (price: $0.01 per call)" in s for s in systems)


def test_bench_skips_llm_routers_without_an_endpoint_and_goes_on(runner, tmp_path):
    log = write_log(tmp_path / "log.jsonl")
    args = bench_args(log)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "skipping router reasoning: no LLM endpoint configured" in result.stderr
    assert "skipping router multiround: no LLM endpoint configured" in result.stderr
    assert [r["router"] for r in json.loads(result.stdout)["results"]] == ["best-single"]


def test_agent_info_errors_name_the_file(runner, tmp_path):
    log, info = write_log(tmp_path / "log.jsonl"), tmp_path / "agents.json"
    info.write_text(json.dumps({"alpha": {"descripton": "typo"}}))
    result = runner.invoke(
        app, ["bench", "run", "--logs", str(log), "--routers", "best-single", "--agent-info", str(info)]
    )
    assert result.exit_code == 2
    assert f"{info}: agent 'alpha': expected a description or an object of" in result.stderr


def test_agents_describe_a_pool_keeps_its_skills_and_shows_its_description(runner, chat_server, tmp_path):
    server = chat_server(describer)
    pool = tmp_path / "pool.py"
    pool.write_text(
        "from agentroute import agent\n"
        "@agent(name='alpha', description='Old text.', skills=['sums'])\n"
        "def alpha(q):\n    return '0'\n"
    )
    log = write_log(tmp_path / "log.jsonl")
    args = describe_args(log, server.url, "--agents", str(pool))
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "alpha": {"description": "Adds numbers: arithmetic questions.", "skills": ["sums"]}
    }
    assert "Its current description: Old text." in server.chat_requests[0].prompt
