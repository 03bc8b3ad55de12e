"""LLM agents against a flaky endpoint: the real ``openai`` client talks to a loopback Chat Completions
server that answers 30% of requests with 429 (Retry-After), 500, invalid JSON, a reply slower than the
client's timeout, or an empty answer. Every question ends answered or explicitly failed; retries stay
within their limits; a sentinel API key is sent to the server but never appears in any output."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from pathlib import Path

from cli_helpers import run_main

from agentroute import AgentRoute
from agentroute.agents.llm import LLMAgent
from agentroute.llm import OpenAIChatModel
from agentroute.routers.base import BaseRouter
from agentroute.testing.chat_server import ChatRequest, ChatServer, Reply
from agentroute.types import QueryGraph, RoutingDecision

SENTINEL = "sk-SENTINEL-7f3a9c-never-print-me"
N_QUESTIONS = 1000
MODEL_RETRIES = 2  # the chat model's own retries (429, 5xx, timeouts, malformed replies)
PIPELINE_RETRIES = 1  # the pipeline's retries of a failed agent call
CLIENT_TIMEOUT_S = 0.5


class FlakyEndpoint:
    """Decides each request's fate from (model, question, attempt): reproducible, counted."""

    def __init__(self) -> None:
        self.attempts: Counter[tuple[str, str]] = Counter()
        self.fates: Counter[str] = Counter()
        self.keys: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, request: ChatRequest) -> Reply | str:
        number = re.search(r"#(\d+)", request.prompt)
        question = number.group(1) if number else request.prompt
        with self._lock:
            attempt = self.attempts[request.model, question]
            self.attempts[request.model, question] += 1
            self.keys.add(request.headers.get("authorization", ""))
            digest = hashlib.sha256(f"{request.model}|{question}|{attempt}".encode()).digest()
            doomed = int(question) % 50 == 0 if question.isdigit() else False
            faults = ("429", "500", "json", "slow", "empty")
            fate = "ok" if digest[0] / 256 >= 0.30 and not doomed else faults[digest[1] % len(faults)]
            self.fates[fate] += 1
        if fate == "429":
            return Reply(status=429, retry_after=0.01, text="slow down")
        if fate == "500":
            return Reply(status=500, text="upstream exploded")
        if fate == "json":
            return Reply(invalid_json=True)
        if fate == "slow":
            return Reply(text=f"Answer: {question}", delay_s=CLIENT_TIMEOUT_S * 2)
        if fate == "empty":
            return Reply(text="")
        return f"Answer: {question}"


class Both(BaseRouter):
    name = "both-llms"

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        probs = dict(zip(graph.agent_names, (0.6, 0.4)))
        return RoutingDecision(router=self.name, probs=probs, selected=list(probs), early_stop=True)


def test_llm_agents_on_a_flaky_endpoint_never_lose_a_question() -> None:
    endpoint = FlakyEndpoint()
    with ChatServer(endpoint) as server:
        agents = [
            LLMAgent(
                name,
                OpenAIChatModel(
                    model,
                    base_url=server.url,
                    api_key=SENTINEL,
                    timeout_s=CLIENT_TIMEOUT_S,
                    max_retries=MODEL_RETRIES,
                    backoff_base_s=0.001,
                    backoff_cap_s=0.01,
                    concurrency=32,
                ),
                strategy="direct",
            )
            for name, model in (("llm-a", "model-a"), ("llm-b", "model-b"))
        ]
        with AgentRoute(agents, Both(), timeout_s=5.0, retries=PIPELINE_RETRIES) as ar:
            questions = [f"What is the number after the hash in #{i}?" for i in range(N_QUESTIONS)]
            answers = ar.ask_many(questions, concurrency=32)

    assert len(answers) == N_QUESTIONS
    answered = [a for a in answers if a.error is None]
    failed = [a for a in answers if a.error is not None]
    for q, a in zip(questions, answers):
        if a.error is None:
            assert a.text == q.split("#")[1].rstrip("?"), (q, a.text)
        else:
            assert a.text == "" and a.error.startswith("no agent answered")
    doomed = N_QUESTIONS // 50
    assert len(failed) >= doomed
    limit = (1 + MODEL_RETRIES) * (1 + PIPELINE_RETRIES)
    assert max(endpoint.attempts.values()) <= limit  # retries respect both limits
    faulty = sum(v for k, v in endpoint.fates.items() if k != "ok")
    assert faulty > 0.2 * sum(endpoint.fates.values())
    # the key reached the server, and nothing the pipeline returned carries it
    assert endpoint.keys == {f"Bearer {SENTINEL}"}
    dumped = "".join(a.model_dump_json() for a in answers)
    assert SENTINEL not in dumped and "SENTINEL" not in dumped
    print(
        f"\nLLM faults: {N_QUESTIONS} questions, {len(answered)} answered, {len(failed)} explicitly failed, "
        f"0 lost; {sum(endpoint.fates.values())} requests "
        f"({', '.join(f'{k} {v}' for k, v in sorted(endpoint.fates.items()))}); at most "
        f"{max(endpoint.attempts.values())} requests per question and model (limit {limit})"
    )


def test_sentinel_api_key_never_reaches_output_logs_or_files(tmp_path: Path, monkeypatch) -> None:
    """Profile LLM agents through the CLI against a flaky endpoint, then against one that refuses the key;
    stdout, stderr, --json, the routing log and the store file are searched for the key."""
    monkeypatch.setenv("MY_TEST_KEY", SENTINEL)
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(f'{{"id": "q{i}", "question": "What is #{i}?", "answer": "{i}"}}\n' for i in range(12)))
    pool = tmp_path / "pool.py"
    pool.write_text(
        "from agentroute.agents.llm import LLMAgent\n"
        "AGENTS = [LLMAgent('llm-direct', 'model-a', strategy='direct'),\n"
        "          LLMAgent('llm-cot', 'model-b', strategy='cot')]\n"
    )
    seen: list[str] = []
    with ChatServer(FlakyEndpoint()) as flaky, ChatServer(lambda r: "Answer: 1", require_key="another-key") as strict:
        for i, server in enumerate((flaky, strict)):
            out = tmp_path / f"run{i}"
            out.mkdir()
            code, stdout, stderr = run_main(
                "profile",
                "--data",
                str(data),
                "--agents",
                str(pool),
                "--out",
                str(out),
                "--base-url",
                server.url,
                "--llm-model",
                "model-a",
                "--api-key-env",
                "MY_TEST_KEY",
                "--store",
                f"file:{out / 'store.json'}",
                "--json",
            )
            seen += [stdout, stderr]
            seen += [p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()]
            if i == 0:
                assert code == 0, stderr
            else:
                assert code == 2 and "refused the API key" in stderr and "MY_TEST_KEY" in stderr, stderr
    assert seen and not any(SENTINEL in text or "SENTINEL" in text for text in seen)
