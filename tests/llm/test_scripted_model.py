"""The scripted chat model: replies in order or from a function, stop sequences, usage and cost."""

import asyncio

import pytest

from agentroute.llm import ChatModel, LLMError, cut_at_stop
from agentroute.testing.scripted import ScriptedChatModel

USER = [{"role": "user", "content": "what is two plus two"}]


def test_replies_in_order_and_records_calls():
    model = ScriptedChatModel(["first", "second"])
    assert isinstance(model, ChatModel)
    assert model.complete(USER).text == "first"
    assert asyncio.run(model.acomplete(USER, temperature=0.5)).text == "second"
    assert [params for _, params in model.calls] == [{}, {"temperature": 0.5}]
    with pytest.raises(LLMError, match="exhausted after 2"):
        model.complete(USER)


def test_function_script_sees_messages_and_params():
    model = ScriptedChatModel(lambda msgs, params: f"{msgs[-1]['content'].upper()} {params.get('seed')}")
    assert model.complete(USER, seed=3).text == "WHAT IS TWO PLUS TWO 3"


def test_stop_sequence_is_cut_and_not_returned():
    model = ScriptedChatModel(["<think>x</think><search> a: b </search> tail"])
    out = model.complete(USER, stop=["</search>", "</answer>"])
    assert out.text == "<think>x</think><search> a: b "
    assert cut_at_stop("abc", None) == ("abc", False)
    assert cut_at_stop("a</answer>b</search>", ["</search>", "</answer>"]) == ("a", True)


def test_usage_and_cost_from_prices():
    model = ScriptedChatModel(["four"], model="m", prices={"m": {"input": 1_000_000, "output": 2_000_000}})
    out = model.complete(USER)
    assert (out.usage.prompt_tokens, out.usage.completion_tokens, out.usage.calls) == (5, 1, 1)
    assert out.cost_usd == pytest.approx(5 * 1 + 1 * 2)


def test_exception_in_script_is_raised():
    model = ScriptedChatModel([LLMError("endpoint down"), "ok"])
    with pytest.raises(LLMError, match="endpoint down"):
        model.complete(USER)
    assert model.complete(USER).text == "ok"
