"""LLMAgent strategies on a scripted chat model (no sockets): prompts, extraction, usage and cost."""

import asyncio

import pytest

from agentroute.agents import agent
from agentroute.agents.llm import LLMAgent, llm_pool
from agentroute.llm import LLMError, LLMSettings
from agentroute.testing.scripted import ScriptedChatModel
from agentroute.types import Query

Q = Query(id="q1", text="What is the capital of France?", context=["France's capital is Paris."])
PRICES = {"m": {"input": 1_000_000, "output": 1_000_000}}  # 1 USD per token: cost == tokens


def run(a, q=Q):
    return asyncio.run(a.invoke(q))


def test_direct_answer_usage_and_cost():
    model = ScriptedChatModel(["It is Paris.\nAnswer: Paris"], model="m", prices=PRICES)
    result = run(LLMAgent("d", model, "direct"))
    assert result.ok and result.answer == "Paris"
    assert result.usage.calls == 1 and result.cost == pytest.approx(result.usage.total)
    ((messages, _),) = model.calls
    assert "France's capital is Paris." in messages[1]["content"]  # context reaches the prompt
    assert "Answer: <answer>" in messages[0]["content"]


def test_cot_asks_to_reason():
    model = ScriptedChatModel(["Step 1 ... Answer: Paris"])
    assert run(LLMAgent("c", model, "cot")).answer == "Paris"
    assert "step by step" in model.calls[0][0][1]["content"]


def test_self_consistency_votes_over_normalised_answers():
    model = ScriptedChatModel(["Answer: Lyon", "Answer: the Paris", "Answer: paris.", "Answer: Nice", "Answer: x"])
    result = run(LLMAgent("sc", model, "self-consistency", samples=5))
    assert result.answer == "the Paris"
    assert result.usage.calls == 5
    assert sorted(p["seed"] for _, p in model.calls) == [0, 1, 2, 3, 4]


def test_self_consistency_counts_a_sentence_for_the_short_answer_it_ends_with():
    replies = ["Answer: Lyon", "Answer: Lyon", "Answer: The capital is Paris", "Answer: Paris", "Answer: Paris, France"]
    model = ScriptedChatModel(replies)
    assert run(LLMAgent("sc", model, "self-consistency", samples=5, short_answer=False)).answer == "Paris"


def test_reflect_drafts_critiques_and_revises():
    model = ScriptedChatModel(["Answer: Lyon", "The draft is wrong: the capital is Paris.", "Answer: Paris"])
    result = run(LLMAgent("r", model, "reflect"))
    assert result.answer == "Paris" and result.usage.calls == 3
    assert "Draft answer:\nAnswer: Lyon" in model.calls[2][0][1]["content"]
    assert "Critique:\nThe draft is wrong" in model.calls[2][0][1]["content"]


def test_react_calls_another_agent_as_a_tool():
    @agent(name="capitals", description="Knows capitals")
    def capitals(q: Query) -> str:
        return "Paris" if "France" in q.text else "unknown"

    model = ScriptedChatModel(
        [
            "Thought: ask the tool\nAction: capitals: capital of France\nObservation: (made up)",
            "Thought: the tool said so\nAnswer: Paris",
        ]
    )
    result = run(LLMAgent("re", model, "react", tools=[capitals]))
    assert result.answer == "Paris"
    assert model.calls[0][1]["stop"] == ["Observation:"]
    assert model.calls[1][0][-1] == {"role": "user", "content": "Observation: Paris"}
    assert "- capitals: Knows capitals" in model.calls[0][0][1]["content"]


def test_react_is_bounded_and_unknown_tools_are_reported():
    model = ScriptedChatModel(lambda msgs, params: "Action: nobody: hi" if "stop" in params else "Answer: gave up")
    result = run(LLMAgent("re", model, "react", max_steps=2))
    assert result.answer == "gave up"
    assert len(model.calls) == 3
    assert "unknown tool 'nobody'" in model.calls[1][0][-1]["content"]


def test_failing_model_fails_the_agent_not_the_question():
    result = run(LLMAgent("d", ScriptedChatModel([LLMError("m at http://x: HTTP 500 after 5 attempts")])))
    assert not result.ok and "HTTP 500" in result.error


def test_unknown_strategy_is_a_definition_error():
    with pytest.raises(ValueError, match="unknown strategy 'debate'"):
        LLMAgent("x", "m", "debate")


def test_pool_is_backbones_times_strategies_and_named_models_connect_lazily():
    pool = llm_pool(["small", "big"], ["direct", "react"])
    assert [a.name for a in pool] == ["small-direct", "small-react", "big-direct", "big-react"]
    assert [t.name for t in pool[1].tools] == ["small-direct"]
    assert not pool[0].connected
    settings = LLMSettings(base_url="http://127.0.0.1:1/v1", env={})
    pool[0].connect(settings)
    pool[2].connect(settings)
    assert pool[0].chat.model == "small" and pool[2].chat.model == "big"
    assert settings.chat_model("small") is pool[0].chat  # one client per backbone
