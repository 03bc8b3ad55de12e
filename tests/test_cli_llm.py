"""The CLI's LLM paths end to end through the real openai client and the scripted server on loopback:
profile an LLM pool -> train -> bench run; ask with the refine aggregator; configuration errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentroute.bench.logs import read_routing_log
from agentroute.cli import app
from agentroute.testing.chat_server import ChatRequest, Reply

REPO = Path(__file__).resolve().parents[1]
POOL = str(REPO / "agents" / "llm_pool.py")
CAPITALS = {"France": "Paris", "Italy": "Rome", "Spain": "Madrid", "Peru": "Lima", "Chad": "Ndjamena", "Cuba": "Havana"}


def oracle_reply(request: ChatRequest) -> str:
    """'small' does arithmetic, 'big' knows capitals; each is wrong on the other kind."""
    question = re.findall(r"Question: (.*)", "\n".join(str(m["content"]) for m in request.messages))
    text = question[-1] if question else ""
    if m := re.search(r"What is (\d+) plus (\d+)", text):
        right = int(m.group(1)) + int(m.group(2))
        return f"Adding.\nAnswer: {right if request.model == 'small' else right + 1}"
    if m := re.search(r"capital of (\w+)", text):
        return f"Answer: {CAPITALS[m.group(1)] if request.model == 'big' else 'Springfield'}"
    return "Answer: unsure"


def write_qa(path: Path) -> Path:
    rows = [{"id": f"a{i}", "question": f"What is {i} plus {i + 2}?", "answer": str(2 * i + 2)} for i in range(6)]
    rows += [
        {"id": f"c{i}", "question": f"What is the capital of {c}?", "answer": p}
        for i, (c, p) in enumerate(CAPITALS.items())
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.fixture
def runner(monkeypatch, no_llm_env) -> CliRunner:
    monkeypatch.setenv("AGENTROUTE_POOL_MODELS", "small,big")
    monkeypatch.setenv("AGENTROUTE_POOL_STRATEGIES", "direct,cot")
    return CliRunner()


def test_profile_llm_pool_then_train_and_bench(runner, chat_server, tmp_path):
    server = chat_server(oracle_reply)
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"small": [1.0, 2.0], "big": [10.0, 20.0]}))
    qa, log = write_qa(tmp_path / "qa.jsonl"), tmp_path / "log.jsonl"
    args = [
        "profile",
        "--data",
        str(qa),
        "--out",
        str(log),
        "--agents",
        POOL,
        "--base-url",
        server.url,
        "--prices",
        str(prices),
        "--concurrency",
        "4",
        "--metric",
        "auto",
        "--json",
    ]
    result = runner.invoke(app, [*args, "--limit", "7"])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, [*args, "--resume"])  # continues where the first run stopped
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) | {"out": None} == {
        "questions": 12,
        "skipped": 7,
        "profiled": 5,
        "agents": 4,
        "failed_calls": 0,
        "out": None,
    }
    rows = read_routing_log(log)
    assert [r.qid for r in rows] == [f"a{i}" for i in range(6)] + [f"c{i}" for i in range(6)]
    a0, c0 = rows[0].agents, rows[6].agents
    assert set(a0) == {"small-direct", "small-cot", "big-direct", "big-cot"}
    assert a0["small-cot"].score == 1.0 and a0["big-cot"].score == 0.0 and a0["small-cot"].pred == "2"
    assert c0["big-direct"].score == 1.0 and c0["small-direct"].score == 0.0
    cell = c0["big-direct"]
    assert cell.tokens > 0 and cell.latency_s > 0
    big_france = [r for r in server.chat_requests if r.model == "big" and "France" in r.prompt]
    request = next(r for r in big_france if "step by step" not in r.prompt)  # the direct agent's call
    prompt_tokens = sum(len(str(m["content"]).split()) for m in request.messages)
    completion_tokens = len(oracle_reply(request).split())
    assert cell.tokens == prompt_tokens + completion_tokens
    assert cell.cost_usd == pytest.approx((prompt_tokens * 10.0 + completion_tokens * 20.0) / 1e6)

    model = tmp_path / "model.pt"
    result = runner.invoke(app, ["train", "--logs", str(log), "--out", str(model), "--epochs", "2", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["agents"] == 4 and model.exists()

    result = runner.invoke(
        app, ["bench", "run", "--logs", str(log), "--folds", "2", "--routers", "knn,best-single,oracle", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["oracle"] == 1.0  # every question has an agent that got it right


def test_ask_with_llm_agents_and_refine(runner, chat_server, tmp_path):
    def reply(request: ChatRequest) -> str:
        if "refining agent" in request.system:
            return "The agents disagree; arithmetic says 7.\nAnswer: 7"
        return oracle_reply(request)

    server = chat_server(reply)
    result = runner.invoke(
        app,
        [
            "ask",
            "What is 3 plus 4?",
            "--agents",
            POOL,
            "--router",
            "all",
            "--aggregate",
            "refine",
            "--base-url",
            server.url,
            "--llm-model",
            "small",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["answer"] == "7"
    assert sorted(out["called"]) == ["big-cot", "big-direct", "small-cot", "small-direct"]
    assert {r["answer"] for r in out["results"]} == {"7", "8"}
    refine = [r for r in server.chat_requests if "refining agent" in r.system]
    assert len(refine) == 1 and refine[0].model == "small"
    assert "### Answer from big-cot\n8" in refine[0].prompt


def test_config_errors_are_one_line_exit_2(runner, chat_server, monkeypatch):
    ask = ["ask", "What is 1 plus 2?", "--agents", POOL, "--router", "all"]
    result = runner.invoke(app, ask)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: no LLM endpoint configured: pass --base-url (or set AGENTROUTE_BASE_URL / OPENAI_BASE_URL), "
        "or set OPENAI_API_KEY to use api.openai.com"
    )
    server = chat_server(["x"])
    url = server.url
    server.stop()
    result = runner.invoke(app, [*ask, "--base-url", url])
    assert result.exit_code == 2 and "cannot reach the LLM endpoint" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    keyed = chat_server(["x"], require_key="good")
    monkeypatch.setenv("MY_KEY", "bad-key-value")
    result = runner.invoke(app, [*ask, "--base-url", keyed.url, "--api-key-env", "MY_KEY"])
    assert result.exit_code == 2 and "refused the API key (HTTP 401); check --api-key-env / MY_KEY" in result.stderr
    result = runner.invoke(app, [*ask, "--base-url", keyed.url, "--api-key-env", "sk-live-abc"])
    assert result.exit_code == 2 and "sk-live-abc" not in result.stderr
    result = runner.invoke(app, [*ask, "--base-url", keyed.url, "--api-key-env", "UNSET_VAR_X"])
    assert result.exit_code == 2 and "environment variable UNSET_VAR_X is not set" in result.stderr


def test_slow_endpoint_fails_the_agents_not_the_question(runner, chat_server):
    server = chat_server(lambda req: Reply(text="Answer: late", delay_s=2.0))
    result = runner.invoke(
        app,
        [
            "ask",
            "What is 1 plus 2?",
            "--agents",
            POOL,
            "--router",
            "all",
            "--base-url",
            server.url,
            "--timeout",
            "0.3",
            "--json",
        ],
    )
    assert result.exit_code == 1, result.stderr  # no agent answered: the question failed, in one JSON object
    out = json.loads(result.stdout)
    assert out["answer"] == "" and all("timeout" in r["error"] for r in out["results"])


def test_ask_table_reports_llm_spend(runner, chat_server, tmp_path):
    server = chat_server(lambda request: "Answer: 7")
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"small": {"input_per_M": 1e6, "output_per_M": 1e6}}))  # 1 USD per token
    ask = ["ask", "What is 3 plus 4?", "--agents", POOL, "--router", "all", "--base-url", server.url]
    with pytest.warns(UserWarning, match=r"no price for model 'big' \(the prices name small\)"):
        result = runner.invoke(app, [*ask, "--llm-model", "small", "--prices", str(prices)])
    assert result.exit_code == 0, result.stderr
    tokens = sum(len(str(m["content"]).split()) for r in server.chat_requests for m in r.messages)
    # small and big get the same prompts; only small is priced: half the prompt tokens and 2 x 2 answer tokens
    spend = f"LLM: 4 calls, {tokens} prompt + 8 completion tokens, ${tokens / 2 + 4:.6f}"
    assert spend in result.stdout
    before = len(server.chat_requests)
    with pytest.warns(UserWarning, match=r"no price for model 'big'"):
        result = runner.invoke(app, [*ask, "--llm-model", "small", "--prices", str(prices), "--json"])
    assert result.exit_code == 0, result.stderr
    tokens = sum(len(str(m["content"]).split()) for r in server.chat_requests[before:] for m in r.messages)
    assert json.loads(result.stdout)["llm"] == {
        "calls": 4,
        "prompt_tokens": tokens,
        "completion_tokens": 8,
        "cost_usd": pytest.approx(tokens / 2 + 4),
    }
