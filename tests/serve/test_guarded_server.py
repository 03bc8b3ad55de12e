"""What a local server must refuse or bound, whoever reaches it: a web page's cross-site form post, a Host
header from a rebound DNS name, secrets an agent echoes, a body sent half-way, a router trained on first use
past the request's time, and a flood of feedback asking for refits."""

from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import urlsplit

import httpx
from serve_helpers import SECRET, pool, running

from agentroute import AgentPool, AgentRecord, RunRecord, agent, open_store, register_router
from agentroute.routers.baselines import KnnRouter
from agentroute.routers.registry import make_router
from agentroute.secrets import redactor
from agentroute.serve.app import ServeConfig
from agentroute.serve.service import RoutingService

ASK = {"model": "agentroute", "messages": [{"role": "user", "content": "Which river flows through Paris?"}]}


def test_only_json_from_known_hosts_is_served() -> None:
    svc = RoutingService(pool("alpha"), make_router("all"), open_store("memory"))
    with running(svc, ServeConfig(allowed_hosts=("127.0.0.1", "localhost"))) as base:
        url = base + "/v1/chat/completions"
        form = httpx.post(
            url, content=b'{"messages": [{"role": "user", "content": "hi"}]}', headers={"content-type": "text/plain"}
        )  # what a page on another site may post without asking
        assert form.status_code == 415 and form.json()["error"]["code"] == "unsupported_media_type"
        rebound = httpx.get(base + "/v1/runs", headers={"host": "evil.example:8000"})
        assert rebound.status_code == 421
        assert rebound.json()["error"]["message"].startswith("Host 'evil.example' is not served here")
        assert httpx.get(base.replace("127.0.0.1", "localhost") + "/health").status_code == 200
        assert httpx.post(url, json=ASK).status_code == 200


def test_a_secret_an_agent_echoes_reaches_neither_client_nor_store() -> None:
    @agent(name="leaky", description="Echoes its configuration.")
    def leaky(q):  # type: ignore[no-untyped-def]
        return f"connected with key {SECRET}"

    redact = redactor([SECRET])
    svc = RoutingService(AgentPool([leaky]), make_router("all"), open_store("memory"), redact=redact)
    with running(svc, ServeConfig(redact=(SECRET,))) as base:
        answer = httpx.post(base + "/v1/chat/completions", json=ASK).json()
        streamed = httpx.post(base + "/v1/chat/completions", json={**ASK, "stream": True}).text
        runs = httpx.get(base + "/v1/runs").text
    assert answer["choices"][0]["message"]["content"] == "connected with key ***"
    assert SECRET not in str(answer) and SECRET not in streamed and SECRET not in runs
    stored = [*svc.store.nodes("Query"), *svc.store.edges("PERFORMED")]
    assert len(stored) == 4 and SECRET not in str(stored)  # two runs, each with its one agent's edge


def test_a_body_sent_half_way_is_answered_408_within_the_request_timeout() -> None:
    svc = RoutingService(pool("alpha"), make_router("all"), open_store("memory"))
    with running(svc, ServeConfig(request_timeout_s=0.5)) as base:
        host, port = urlsplit(base).hostname, urlsplit(base).port
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                b'content-length: 1000\r\n\r\n{"messages": '
            )
            start = time.monotonic()
            reply = s.recv(4096).decode()
        assert reply.startswith("HTTP/1.1 408") and time.monotonic() - start < 5


class SlowToBuild(KnnRouter):
    """A router whose construction takes a while (as a trained-on-first-use one does)."""

    built = 0

    def __init__(self, **options: object) -> None:
        time.sleep(1.5)
        type(self).built += 1
        super().__init__(**options)  # type: ignore[arg-type]


def test_a_router_built_on_first_use_counts_against_the_request_timeout_and_is_built_once() -> None:
    register_router("slow-to-build", SlowToBuild, trainable=False)
    SlowToBuild.built = 0
    svc = RoutingService(pool("alpha"), make_router("all"), open_store("memory"))
    with running(svc, ServeConfig(request_timeout_s=0.3)) as base:
        url = base + "/v1/chat/completions"
        start = time.monotonic()
        first = httpx.post(url, json={**ASK, "model": "agentroute:slow-to-build"}, timeout=30)
        assert first.status_code == 504 and time.monotonic() - start < 1.2, first.text
        second = httpx.post(url, json={**ASK, "model": "agentroute:slow-to-build"}, timeout=30)  # still building
        assert second.status_code == 504
        time.sleep(1.5)
        assert httpx.post(url, json={**ASK, "model": "agentroute:slow-to-build"}, timeout=30).status_code == 200
    assert SlowToBuild.built == 1  # the requests that stopped waiting did not start builds of their own


def test_feedback_floods_coalesce_into_few_refits() -> None:
    store = open_store("memory")
    for i in range(20):
        store.record(RunRecord(qid=f"h{i}", question=f"river {i}?", agents={"alpha": AgentRecord(score=1.0)}))
    svc = RoutingService(pool("alpha", "beta"), make_router("knn"), store, refit_every=1)
    builds = []
    real_build = svc._build
    svc._build = lambda name: (builds.append(name), time.sleep(0.2), real_build(name))[-1]  # type: ignore[method-assign]

    async def flood() -> None:
        served = await svc.ask("agentroute", svc.query("Which river flows through Paris?"))
        await svc.recorded(served.id)
        other = await svc.ask("agentroute", svc.query("Which river flows through Lyon?"))
        await svc.recorded(other.id)
        await asyncio.gather(*(svc.feedback(served.id, score=1.0) for _ in range(50)))  # one run, fifty times
        await svc.feedback(other.id, score=0.0)
        await svc.settle()
        await svc.aclose()

    asyncio.run(flood())
    assert 1 <= len(builds) <= 2, builds  # two first feedbacks: at most one refit running, one queued


def test_a_short_secret_value_blanks_errors_but_leaves_answers_whole() -> None:
    """An env password as short as "secret" is a word an answer may hold: answers keep it, errors do not."""

    @agent(name="civics", description="Knows ballots.")
    def civics(q):  # type: ignore[no-untyped-def]
        return "A secret ballot"

    @agent(name="failing", description="Fails quoting its password.")
    def failing(q):  # type: ignore[no-untyped-def]
        raise RuntimeError("login with password secret refused")

    svc = RoutingService(AgentPool([civics, failing]), make_router("all"), open_store("memory"))
    with running(svc, ServeConfig(redact=("secret",))) as base:
        out = httpx.post(base + "/v1/chat/completions", json=ASK).json()
    assert out["choices"][0]["message"]["content"] == "A secret ballot"
    (error,) = [a["error"] for a in out["agentroute"]["agents"] if a["agent"] == "failing"]
    assert "secret" not in error and "***" in error


def test_an_operator_names_more_hosts_or_any() -> None:
    svc = RoutingService(pool("alpha"), make_router("all"), open_store("memory"))
    with running(svc, ServeConfig(allowed_hosts=("127.0.0.1", "localhost", "proxy.example"))) as base:
        for host, status in (("proxy.example", 200), ("localhost.:8000", 200), ("evil.example", 421)):
            assert httpx.get(base + "/health", headers={"host": host}).status_code == status, host
    with running(svc, ServeConfig(allowed_hosts=("*",))) as base:
        assert httpx.get(base + "/health", headers={"host": "evil.example"}).status_code == 200


class BuildsInOneSecond(KnnRouter):
    def __init__(self, **options: object) -> None:
        time.sleep(1.0)
        super().__init__(**options)  # type: ignore[arg-type]


def test_a_stream_gets_what_is_left_of_the_request_time() -> None:
    register_router("builds-in-one-second", BuildsInOneSecond, trainable=False)

    @agent(name="slow", description="Takes a second.")
    def slow(q):  # type: ignore[no-untyped-def]
        time.sleep(1.0)
        return "late"

    svc = RoutingService(AgentPool([slow]), make_router("all"), open_store("memory"))
    with running(svc, ServeConfig(request_timeout_s=1.5)) as base:
        start = time.monotonic()
        body = {**ASK, "model": "agentroute:builds-in-one-second", "stream": True}
        text = httpx.post(base + "/v1/chat/completions", json=body, timeout=30).text
        took = time.monotonic() - start
    assert "request timeout" in text and "late" not in text and took < 1.9, (took, text[-300:])
