"""Plumbing against an endpoint: the scripted server by default, or a real OpenAI-compatible server when
AGENTROUTE_TEST_LLM_URL / AGENTROUTE_TEST_LLM_MODEL are set (.ci/run starts llama.cpp's with a tiny model).

A real tiny model's answers are not judged here: only that calls, stop sequences, token limits, usage and
cost accounting, strategies, refining and the CLI work, and that a weak model's output never crashes.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentroute.agents.llm import LLMAgent
from agentroute.cli import app
from agentroute.llm import OpenAIChatModel
from agentroute.refine import RefiningAggregator
from agentroute.types import AgentResult, Query, RoutingDecision

pytestmark = pytest.mark.llm_endpoint

USER = [{"role": "user", "content": "What is the capital of France? Explain, then end with 'Answer: <city>'."}]
LIMIT = 16  # tokens per call: keeps a CPU-served model fast


def model_for(endpoint, **kw) -> OpenAIChatModel:
    return OpenAIChatModel(
        endpoint.model,
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        prices={endpoint.model: {"input_per_M": 1.0, "output_per_M": 2.0}},
        **kw,
    )


def test_completion_usage_cost_and_token_limit(llm_endpoint):
    out = model_for(llm_endpoint).complete(USER, max_tokens=5, temperature=0)
    assert isinstance(out.text, str)
    assert out.usage.prompt_tokens > 0 and 0 < out.usage.completion_tokens <= 5
    expected = (out.usage.prompt_tokens * 1.0 + out.usage.completion_tokens * 2.0) / 1e6
    assert abs(out.cost_usd - expected) < 1e-12
    assert out.latency_s > 0


def test_stop_sequence_is_not_returned(llm_endpoint):
    out = model_for(llm_endpoint).complete(USER, stop=["Answer", "answer"], max_tokens=LIMIT, temperature=0)
    assert "Answer" not in out.text and "answer" not in out.text


def test_parallel_calls(llm_endpoint):
    model = model_for(llm_endpoint, concurrency=2)

    async def burst():
        return await asyncio.gather(*(model.acomplete(USER, max_tokens=4, seed=i) for i in range(4)))

    outs = asyncio.run(burst())
    assert len(outs) == 4 and all(o.usage.calls == 1 for o in outs)


def test_strategies_count_every_call(llm_endpoint):
    model = model_for(llm_endpoint)
    q = Query(id="q", text="What is 2 plus 3?")
    for strategy, calls in (("direct", 1), ("reflect", 3), ("self-consistency", 2)):
        agent = LLMAgent(strategy, model, strategy, samples=2, max_tokens=LIMIT)
        result = asyncio.run(agent.invoke(q, timeout=120))
        assert result.error is None, result.error
        assert isinstance(result.answer, str)
        assert result.usage.calls == calls and result.cost > 0


def test_refine_merges_or_degrades_gracefully(llm_endpoint):
    refine = RefiningAggregator(model_for(llm_endpoint), max_tokens=LIMIT)
    decision = RoutingDecision(router="t", probs={"a": 0.5, "b": 0.5}, selected=["a", "b"])
    results = [AgentResult(agent="a", answer="Paris"), AgentResult(agent="b", answer="Lyon")]
    answer = asyncio.run(refine.aaggregate(Query(id="q", text="Capital of France?"), decision, results))
    assert isinstance(answer.text, str) and answer.usage.calls == 1


def test_cli_ask_with_an_llm_pool_and_refine(llm_endpoint, tmp_path: Path, monkeypatch):
    pool = tmp_path / "pool.py"
    pool.write_text(
        "from agentroute.agents.llm import llm_pool\n"
        f"AGENTS = llm_pool([None], ['direct', 'cot'], max_tokens={LIMIT})\n"
    )
    for var in ("AGENTROUTE_BASE_URL", "OPENAI_BASE_URL", "AGENTROUTE_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    args = [
        "ask",
        "What is 2 plus 3?",
        "--agents",
        str(pool),
        "--router",
        "all",
        "--aggregate",
        "refine",
        "--base-url",
        llm_endpoint.base_url,
        "--llm-model",
        llm_endpoint.model,
        "--timeout",
        "120",
        "--json",
    ]
    if llm_endpoint.api_key:
        monkeypatch.setenv("AGENTROUTE_TEST_KEY_FOR_CLI", llm_endpoint.api_key)
        args += ["--api-key-env", "AGENTROUTE_TEST_KEY_FOR_CLI"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert isinstance(out["answer"], str) and sorted(out["called"]) == ["cot", "direct"]
    assert all(r["error"] is None for r in out["results"])
