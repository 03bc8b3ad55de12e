"""OpenAIChatModel through the real ``openai`` client against the scripted server on loopback."""

import asyncio
import json
import logging
import time

import pytest

from agentroute.llm import (
    LLMConfigError,
    LLMError,
    OpenAIChatModel,
    Price,
    PriceFileError,
    backoff_s,
    load_prices,
    resolve_config,
    retry_after_s,
)
from agentroute.testing.chat_server import Reply

USER = [{"role": "user", "content": "capital of France"}]
FAST = {"backoff_base_s": 0.01, "backoff_cap_s": 0.05}


def make(server, **kw):
    return OpenAIChatModel("m", base_url=server.url, api_key="sk-test", **{**FAST, **kw})


def test_reply_usage_cost_and_stop(chat_server):
    server = chat_server(["<answer>Paris</answer> trailing"])
    model = make(server, prices={"m": {"input": 2.0, "output": 4.0}})
    out = model.complete(USER, stop=["</answer>"], temperature=0)
    assert out.text == "<answer>Paris"
    assert (out.usage.prompt_tokens, out.usage.completion_tokens) == (3, 1)
    assert out.cost_usd == pytest.approx((3 * 2.0 + 1 * 4.0) / 1e6)
    sent = server.chat_requests[0]
    assert sent.model == "m" and sent.params["stop"] == ["</answer>"] and sent.params["temperature"] == 0
    assert sent.headers["authorization"] == "Bearer sk-test"


def test_unknown_params_travel_in_extra_body(chat_server):
    server = chat_server(["ok"])
    make(server).complete(USER, grammar='root ::= "ok"', max_tokens=5)
    assert server.chat_requests[0].params == {"grammar": 'root ::= "ok"', "max_tokens": 5}


def test_429_honours_retry_after(chat_server):
    server = chat_server([Reply(status=429, retry_after=0.3), "ok"])
    start = time.perf_counter()
    out = make(server).complete(USER)
    assert out.text == "ok" and out.attempts == 2
    assert time.perf_counter() - start >= 0.3  # waited as told, not the 10 ms backoff


def test_500_and_invalid_json_are_retried(chat_server):
    server = chat_server([Reply(status=500), Reply(invalid_json=True), Reply(status=503), "ok"])
    out = asyncio.run(make(server).acomplete(USER))
    assert out.text == "ok" and out.attempts == 4


def test_gives_up_after_max_retries_with_one_line(chat_server):
    server = chat_server([Reply(status=500, text="boom")] * 3)
    with pytest.raises(LLMError) as info:
        make(server, max_retries=2).complete(USER)
    assert "HTTP 500: boom after 3 attempts" in str(info.value) and "\n" not in str(info.value)
    assert len(server.chat_requests) == 3


def test_client_errors_are_not_retried(chat_server):
    server = chat_server([Reply(status=400, text="bad request"), "never"])
    with pytest.raises(LLMError, match="HTTP 400: bad request"):
        make(server).complete(USER)
    assert len(server.chat_requests) == 1


def test_slow_reply_times_out_then_retry_succeeds(chat_server):
    server = chat_server([Reply(text="late", delay_s=1.0), "quick"])
    out = make(server, timeout_s=0.2).complete(USER)
    assert out.text == "quick" and out.attempts == 2


def test_slow_reply_without_retries_fails(chat_server):
    server = chat_server([Reply(text="late", delay_s=1.0)])
    with pytest.raises(LLMError, match="timed out"):
        make(server, timeout_s=0.2, max_retries=0).complete(USER)


def test_concurrency_limit_per_endpoint(chat_server):
    server = chat_server(lambda req: Reply(text="ok", delay_s=0.1))
    a, b = make(server, concurrency=2), make(server, concurrency=2)  # same endpoint: one shared limit

    async def burst():
        return await asyncio.gather(*(m.acomplete(USER) for m in [a, b] * 4))

    outs = asyncio.run(burst())
    assert [o.text for o in outs] == ["ok"] * 8
    assert server.max_in_flight == 2


def test_unreachable_endpoint_is_a_config_error(chat_server):
    server = chat_server(["x"])
    url = server.url
    server.stop()
    model = OpenAIChatModel("m", base_url=url, max_retries=1, **FAST)
    with pytest.raises(LLMConfigError, match="cannot reach the LLM endpoint .*--base-url"):
        model.complete(USER)
    with pytest.raises(LLMConfigError, match="cannot reach"):
        model.check()


def test_refused_key_names_the_variable_never_the_key(chat_server, caplog):
    secret = "sk-SENTINEL-0123456789"
    server = chat_server(["x"], require_key="the-right-key")
    model = OpenAIChatModel("m", base_url=server.url, api_key_env="MY_KEY", env={"MY_KEY": secret}, **FAST)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LLMConfigError) as info:
        model.check()
    assert "refused the API key (HTTP 401)" in str(info.value) and "MY_KEY" in str(info.value)
    with pytest.raises(LLMConfigError):
        model.complete(USER)
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {secret}"
    for text in (str(info.value), repr(model), repr(model._config), caplog.text):
        assert secret not in text


def test_server_echoing_the_key_is_scrubbed(chat_server):
    secret = "sk-SENTINEL-echo-987"
    server = chat_server([Reply(status=400, text=f"Incorrect API key provided: {secret}")])
    with pytest.raises(LLMError) as info:
        OpenAIChatModel("m", base_url=server.url, api_key=secret).complete(USER)
    assert secret not in str(info.value) and "***" in str(info.value)


def test_config_from_environment_with_overrides():
    env = {
        "OPENAI_BASE_URL": "http://a/v1",
        "AGENTROUTE_BASE_URL": "http://b/v1",
        "OPENAI_API_KEY": "k1",
        "AGENTROUTE_LLM_MODEL": "small",
    }
    cfg = resolve_config(env=env)
    assert (cfg.base_url, cfg.model, cfg.api_key.get_secret_value(), cfg.key_source) == (
        "http://b/v1",
        "small",
        "k1",
        "OPENAI_API_KEY",
    )
    cfg = resolve_config(base_url="http://c/v1", model="big", env=env)
    assert (cfg.base_url, cfg.model) == ("http://c/v1", "big")
    assert "k1" not in repr(cfg)
    mine = resolve_config(env={**env, "AGENTROUTE_LLM_API_KEY": "k2"})
    assert (mine.api_key.get_secret_value(), mine.key_source) == ("k2", "AGENTROUTE_LLM_API_KEY")


def test_the_serve_key_is_never_sent_to_the_llm_provider():
    # AGENTROUTE_API_KEY is what clients of `agentroute serve` must show; it is not an LLM provider key.
    cfg = resolve_config(env={"AGENTROUTE_API_KEY": "server-secret", "AGENTROUTE_BASE_URL": "http://a/v1"}, model="m")
    assert cfg.api_key is None and cfg.key_source == "none"


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({"model": "m"}, {}, "no LLM endpoint configured: pass --base-url"),
        ({"base_url": "http://x/v1"}, {}, "no LLM model configured: pass --llm-model"),
        ({"model": "m", "api_key_env": "NOPE"}, {}, "--api-key-env NOPE: environment variable NOPE is not set"),
        ({"model": "m", "base_url": "localhost:8000"}, {}, "expected an http:// or https:// URL"),
    ],
)
def test_config_errors_name_the_option(kwargs, env, message):
    with pytest.raises(LLMConfigError, match=message):
        resolve_config(env=env, **kwargs)


def test_prices_file(tmp_path):
    path = tmp_path / "prices.json"
    table = {"gpt-x": {"input_per_M": 0.15, "output_per_M": 0.6}, "llama*": [0.1, 0.2], "agent": {"per_call": 1}}
    path.write_text(json.dumps(table))
    prices = load_prices(path)
    assert prices["gpt-x"] == Price(input=0.15, output=0.6)
    model = OpenAIChatModel("llama-3-8b", base_url="http://127.0.0.1:1/v1", prices=path)
    assert model.price == Price(input=0.1, output=0.2)
    path.write_text('{"gpt-x": {"input": "cheap"}}')
    with pytest.raises(PriceFileError, match="price of 'gpt-x' must be"):
        load_prices(path)
    path.write_text("{not json")
    with pytest.raises(PriceFileError, match=r"prices.json:1: invalid JSON"):
        load_prices(path)
    path.write_text('{"gpt-x": {"input_per_M": Infinity, "output_per_M": 1}}')  # Python's json reads it
    with pytest.raises(PriceFileError, match="price of 'gpt-x' must be"):
        load_prices(path)


def test_retry_after_and_backoff_rules():
    assert retry_after_s({"retry-after": "2"}) == 2.0
    assert retry_after_s({"retry-after-ms": "250"}) == 0.25
    assert retry_after_s({}) is None
    assert backoff_s(3, 0.5, 30, 1.5) == 1.5
    assert backoff_s(10, 0.5, 30, 100.0) == 100.0
    assert backoff_s(10, 0.5, 30, 1000.0) == 120.0
    waits = [backoff_s(2, 0.5, 30, None) for _ in range(50)]
    assert all(1.0 <= w <= 2.0 for w in waits) and len(set(waits)) > 1  # jittered within [half, full]


def test_a_prices_file_that_does_not_name_the_model_is_a_warning() -> None:
    with pytest.warns(UserWarning, match=r"no price for model 'small' \(the prices name smal\): its calls cost \$0"):
        OpenAIChatModel("small", base_url="http://127.0.0.1:1/v1", prices={"smal": {"input": 1.0, "output": 2.0}})


def test_make_chat_model_names_a_model_at_an_endpoint_or_passes_a_model_through(chat_server, monkeypatch):
    from agentroute import ScriptedChatModel, make_chat_model

    server = chat_server(["Paris"])
    monkeypatch.setenv("MY_KEY_VAR", "sk-from-env")
    model = make_chat_model("m", base_url=server.url, api_key_env="MY_KEY_VAR", prices={"m": [1.0, 2.0]})
    try:
        out = model.complete(USER)
    finally:
        model.close()
    assert out.text == "Paris" and out.cost_usd == pytest.approx((3 * 1.0 + 1 * 2.0) / 1e6)
    assert server.chat_requests[0].headers["authorization"] == "Bearer sk-from-env"
    scripted = ScriptedChatModel(["x"])
    assert make_chat_model(scripted) is scripted
