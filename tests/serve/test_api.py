"""The OpenAI-compatible API through the real ``openai`` client against a real uvicorn server on loopback."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from serve_helpers import SECRET, budgeted_service, pool, priced_question, running

from agentroute import AgentRecord, RunRecord, make_router, open_store
from agentroute.serve.app import ServeConfig
from agentroute.serve.service import RoutingService


def client(base: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=30)


def service(*agents: str, router: str = "all", **kw) -> RoutingService:
    return RoutingService(pool(*agents), make_router(router), open_store("memory"), **kw)


def test_chat_completion_carries_the_decision_usage_and_cost() -> None:
    with running(service("alpha", "beta")) as base:
        raw = client(base).chat.completions.with_raw_response.create(
            model="agentroute", messages=[{"role": "user", "content": "Which river flows through Paris?"}]
        )
    resp = raw.parse()
    assert resp.object == "chat.completion" and resp.id.startswith("chatcmpl-")
    assert resp.choices[0].message.role == "assistant" and resp.choices[0].finish_reason == "stop"
    route = resp.agentroute
    assert route["router"] == "all" and sorted(route["called"]) == ["alpha", "beta"]
    assert resp.choices[0].message.content in {"Seine", "Rhone"}
    assert {a["agent"]: a["answer"] for a in route["agents"]} == {"alpha": "Seine", "beta": "Rhone"}
    assert route["cost"] == pytest.approx(0.003)  # summed over the agents called
    assert set(route["probs"]) == {"alpha", "beta"} and route["failed"] == []
    assert resp.usage.total_tokens == 0  # tool agents report no tokens
    header = json.loads(raw.headers["x-agentroute-decision"])
    assert header["router"] == "all" and sorted(header["called"]) == ["alpha", "beta"]


def test_usage_and_cost_are_summed_over_the_agents_called() -> None:
    with running(service("alpha", "priced")) as base:
        resp = client(base).chat.completions.create(
            model="agentroute", messages=[{"role": "user", "content": "Which river flows through Paris?"}]
        )
        chunks = list(
            client(base).chat.completions.create(
                model="agentroute",
                stream=True,
                stream_options={"include_usage": True},
                messages=[{"role": "user", "content": "Which river flows through Paris?"}],
            )
        )
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (12, 3, 15)
    assert resp.agentroute["cost"] == pytest.approx(0.012) and resp.agentroute["agents_cost"] == pytest.approx(0.012)
    assert chunks[-1].usage.total_tokens == 15


def test_earlier_messages_reach_the_agents_as_context() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": [{"type": "text", "text": "How many messages came before?"}]},
    ]
    with running(service("context-counter")) as base:
        resp = client(base).chat.completions.create(model="agentroute", messages=messages)
    assert resp.choices[0].message.content == "3 context: system: Be brief. | user: Hi | assistant: Hello!"


def test_streaming_sends_decision_agents_answer_then_done() -> None:
    with running(service("alpha", "beta")) as base:
        chunks = list(
            client(base).chat.completions.create(
                model="agentroute",
                stream=True,
                stream_options={"include_usage": True},
                messages=[{"role": "user", "content": "Which river flows through Lyon?"}],
            )
        )
        ask = {"stream": True, "messages": [{"role": "user", "content": "Which river?"}]}
        with_usage = httpx.post(base + "/v1/chat/completions", json={**ask, "stream_options": {"include_usage": True}})
        without = httpx.post(base + "/v1/chat/completions", json=ask)
    bodies = [json.loads(line[6:]) for line in with_usage.text.splitlines() if line.startswith("data: {")]
    assert [b["usage"] for b in bodies[:-1]] == [None] * (len(bodies) - 1)  # null until the usage chunk
    assert bodies[-1]["usage"]["total_tokens"] == 0
    assert all("usage" not in json.loads(line[6:]) for line in without.text.splitlines() if line.startswith("data: {"))
    events = [(c.model_extra or {}).get("agentroute", {}).get("event") for c in chunks]
    assert events[0] == "decision" and chunks[0].choices[0].delta.role == "assistant"
    assert sorted(e for e in events if e == "agent") == ["agent", "agent"]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text in {"Seine", "Rhone"}
    done = next(c for c in chunks if (c.model_extra or {}).get("agentroute", {}).get("event") == "done")
    assert done.choices[0].finish_reason == "stop" and sorted(done.agentroute["called"]) == ["alpha", "beta"]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 0
    assert len({c.id for c in chunks}) == 1


def test_model_names_a_router_and_unknown_models_are_404() -> None:
    with running(service("alpha", "beta", router="knn")) as base:
        c = client(base)
        ids = [m.id for m in c.models.list()]
        assert ids[0] == "agentroute" and "agentroute:all" in ids and "agentroute:oracle" not in ids
        resp = c.chat.completions.create(model="agentroute:all", messages=[{"role": "user", "content": "river?"}])
        assert resp.agentroute["router"] == "all" and resp.model == "agentroute:all"
        assert (
            c.chat.completions.create(model="agentroute", messages=[{"role": "user", "content": "x"}]).agentroute[
                "router"
            ]
            == "knn"
        )
        with pytest.raises(openai.NotFoundError, match="unknown model 'gpt-4o'"):
            c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])


def test_every_answer_is_recorded_and_feedback_scores_its_performed_edges() -> None:
    svc = service("alpha", "beta")
    with running(svc) as base:
        resp = client(base).chat.completions.create(
            model="agentroute", messages=[{"role": "user", "content": "Which river flows through Paris?"}]
        )
        served = resp.choices[0].message.content
        assert httpx.get(base + f"/v1/runs/{resp.id}").json()["answer"] == served  # waits for the recording
        edges = {e["dst"]: e for e in svc.store.edges("PERFORMED", src=resp.id)}
        assert {a: e["pred"] for a, e in edges.items()} == {"alpha": "Seine", "beta": "Rhone"}
        assert all("score" not in e and e["cost"] > 0 for e in edges.values())  # score unknown until feedback
        fb = httpx.post(base + "/v1/feedback", json={"id": resp.id, "score": 1}).json()
        other = "beta" if served == "Seine" else "alpha"
        winner = "alpha" if other == "beta" else "beta"
        assert fb["scores"] == {winner: 1.0, other: 0.0}  # right answer: the agent that disagreed was wrong
        assert {e["dst"]: e["score"] for e in svc.store.edges("PERFORMED", src=resp.id)} == fb["scores"]
        run = httpx.get(base + f"/v1/runs/{resp.id}").json()
        assert run["feedback"] == 1.0 and run["answer"] == served
        fb = httpx.post(base + "/v1/feedback", json={"id": resp.id, "preferred": "the Rhone"}).json()
        assert fb["scores"] == {"alpha": 0.0, "beta": 1.0}
        assert svc.store.get_node("Query", resp.id)["gold"] == ["the Rhone"]
        recent = httpx.get(base + "/v1/runs?limit=5").json()["data"]
        assert [r["id"] for r in recent] == [resp.id]
        assert httpx.post(base + "/v1/feedback", json={"id": "chatcmpl-nope", "score": 1}).status_code == 404
        missing = httpx.post(base + "/v1/feedback", json={"id": resp.id})
        assert missing.status_code == 400 and "one of score, preferred or scores" in missing.json()["error"]["message"]
        bad = httpx.post(base + "/v1/feedback", json={"id": resp.id, "scores": {"gamma": 1}})
        assert bad.status_code == 400 and "gamma" in bad.json()["error"]["message"]
        bad = httpx.post(base + "/v1/feedback", json={"id": resp.id, "scores": {"alpha": 2}})
        assert bad.status_code == 400 and "between 0 and 1" in bad.json()["error"]["message"]
        ok = httpx.post(base + "/v1/feedback", json={"id": resp.id, "scores": {"alpha": 0.5}}).json()
        assert ok["scores"] == {"alpha": 0.5}


def _seeded_store(runs: list[tuple[str, dict[str, float]]]):
    store = open_store("memory")
    for i, (question, scores) in enumerate(runs):
        store.record(
            RunRecord(qid=f"seed-{i}", question=question, agents={a: AgentRecord(score=s) for a, s in scores.items()})
        )
    return store


def test_routing_changes_after_feedback() -> None:
    """kNN sees a served run once it is scored: 'wrong' feedback on alpha's answers moves routing to beta."""
    store = _seeded_store(
        [
            ("Which river flows through Vienna?", {"alpha": 1.0, "beta": 0.0}),
            ("What is the tallest mountain in Spain?", {"alpha": 0.0, "beta": 1.0}),
        ]
    )
    svc = RoutingService(pool("alpha", "beta"), make_router("knn"), store, k=1)
    question = [{"role": "user", "content": "Which river flows through Lyon?"}]
    with running(svc) as base:
        c = client(base)
        first = c.chat.completions.create(model="agentroute", messages=question)
        assert first.agentroute["called"] == ["alpha"] and first.choices[0].message.content == "Seine"
        chosen = [first.agentroute["called"]]
        for _ in range(4):
            resp = c.chat.completions.create(model="agentroute", messages=question)
            chosen.append(resp.agentroute["called"])
            if resp.agentroute["called"] == ["beta"]:
                break
            httpx.post(base + "/v1/feedback", json={"id": resp.id, "score": 0}).raise_for_status()
        assert chosen[-1] == ["beta"] and resp.choices[0].message.content == "Rhone"
        # without feedback the router keeps its choice: unscored served runs are not evidence
    quiet = RoutingService(
        pool("alpha", "beta"),
        make_router("knn"),
        _seeded_store(
            [
                ("Which river flows through Vienna?", {"alpha": 1.0, "beta": 0.0}),
                ("What is the tallest mountain in Spain?", {"alpha": 0.0, "beta": 1.0}),
            ]
        ),
        k=1,
    )
    with running(quiet) as base:
        c = client(base)
        assert [
            c.chat.completions.create(model="agentroute", messages=question).agentroute["called"]
            for _ in range(len(chosen))
        ] == [["alpha"]] * len(chosen)


async def test_refit_every_retrains_the_router_on_feedback() -> None:
    """best-single only learns in fit: with refit_every=1, one 'wrong' feedback makes it switch agents."""
    store = _seeded_store([("Which river flows through Vienna?", {"alpha": 1.0, "beta": 0.9})])
    svc = RoutingService(pool("alpha", "beta"), make_router("best-single"), store, refit_every=1)
    query = svc.query("Which river flows through Lyon?")
    served = await svc.ask("agentroute", query)
    assert served.answer.decision.selected == ["alpha"]
    await svc.feedback(served.id, score=0.0)
    await svc.settle()
    again = await svc.ask("agentroute", svc.query("Which river flows through Lyon?"))
    assert again.answer.decision.selected == ["beta"] and again.answer.text == "Rhone"
    await svc.aclose()


def test_api_key_guards_every_endpoint_but_health(caplog: pytest.LogCaptureFixture) -> None:
    key = "k-" + "7" * 30
    svc = service("alpha", "broken")
    config = ServeConfig(api_key=key, redact=(SECRET,))
    assert key not in repr(config) and SECRET not in repr(config)
    with running(svc, config) as base:
        for method, path in [
            ("GET", "/v1/models"),
            ("POST", "/v1/chat/completions"),
            ("POST", "/v1/feedback"),
            ("GET", "/v1/runs"),
            ("GET", "/v1/runs/x"),
            ("GET", "/v1/budget"),
        ]:
            wrong = ({}, {"authorization": "Bearer wrong"}, {"authorization": key}, {"authorization": "Bearer"})
            prefix = {"authorization": "Bearer " + key[:-1]}  # a key's prefix is no key
            for headers in (*wrong, prefix, {"authorization": "Bearer " + key + "x"}):
                r = httpx.request(method, base + path, headers=headers, json={})
                assert r.status_code == 401, (path, headers)
                assert "API key" in r.json()["error"]["message"] and key not in r.text
        assert httpx.get(base + "/health").json()["status"] == "ok"
        with pytest.raises(openai.AuthenticationError):
            client(base, "wrong").models.list()
        resp = client(base, key).chat.completions.create(
            model="agentroute", messages=[{"role": "user", "content": "Which river?"}]
        )
        assert resp.choices[0].message.content == "Seine"
        assert resp.agentroute["failed"] == ["broken"]
        text = resp.model_dump_json()
        assert SECRET not in text and key not in text and "***" in text
    assert key not in caplog.text and SECRET not in caplog.text


def test_a_router_that_cannot_route_yet_is_a_clear_4xx_or_503_not_an_internal_error(no_llm_env) -> None:
    from agentroute import register_router
    from agentroute.routers.base import BaseRouter, NotTrainedError

    @register_router("needs-training")
    class NeedsTraining(BaseRouter):  # a router that must be trained before it routes anything
        name = "needs-training"

        def route(self, graph, k=None):  # type: ignore[no-untyped-def]
            raise NotTrainedError("needs-training router is not trained")

    svc = service("alpha", "beta", router="knn")
    ask = {"messages": [{"role": "user", "content": "Which river flows through Paris?"}]}
    with running(svc) as base:
        untrained = httpx.post(base + "/v1/chat/completions", json={**ask, "model": "agentroute:needs-training"})
        assert untrained.status_code == 409, untrained.text  # the operator's to fix, and the reply says how
        error = untrained.json()["error"]
        assert error["code"] == "model_not_trained" and "--refit-every" in error["message"]
        streamed = httpx.post(
            base + "/v1/chat/completions", json={**ask, "model": "agentroute:needs-training", "stream": True}
        )
        assert "No answer: needs-training router is not trained" in streamed.text  # in-band once headers are sent
        # gnn on an empty store: no agent has history, so it routes by description, as every learned router
        gnn = httpx.post(base + "/v1/chat/completions", json={**ask, "model": "agentroute:gnn"}, timeout=60)
        assert gnn.status_code == 200 and gnn.json()["agentroute"]["rationale"].startswith("cold start")
        llm = httpx.post(base + "/v1/chat/completions", json={**ask, "model": "agentroute:reasoning"})
        assert llm.status_code == 503, llm.text
        assert llm.json()["error"]["code"] == "llm_not_configured"


def test_failing_agents_become_a_completion_that_names_them() -> None:
    with running(service("broken"), ServeConfig(redact=(SECRET,))) as base:
        resp = client(base).chat.completions.create(model="agentroute", messages=[{"role": "user", "content": "hi"}])
    text = resp.choices[0].message.content
    assert text.startswith("No answer: 1 agent(s) failed (broken: RuntimeError") and SECRET not in text
    assert resp.agentroute["failed"] == ["broken"] and resp.agentroute["agents"][0]["answer"] is None


def test_limits_give_clear_413_and_400() -> None:
    with running(service("alpha"), ServeConfig(max_body_bytes=2_000, max_messages=3)) as base:
        url = base + "/v1/chat/completions"
        big = httpx.post(url, json={"messages": [{"role": "user", "content": "x" * 5_000}]})
        assert big.status_code == 413 and "larger than 2000 bytes" in big.json()["error"]["message"]
        as_json = {"content-type": "application/json"}
        chunked = httpx.post(url, content=iter([b'{"messages": [', b" " * 3_000, b"]}"]), headers=as_json)
        assert chunked.status_code == 413
        many = httpx.post(url, json={"messages": [{"role": "user", "content": "hi"}] * 4})
        assert many.status_code == 400 and "more than the limit of 3" in many.json()["error"]["message"]
        no_user = httpx.post(url, json={"messages": [{"role": "system", "content": "hi"}]})
        assert no_user.status_code == 400 and "no user message" in no_user.json()["error"]["message"]
        bad = httpx.post(url, content=b"{not json", headers=as_json)
        assert bad.status_code == 400 and "json" in bad.json()["error"]["message"].lower()
        wrong_type = httpx.post(url, json={"messages": [{"role": "user", "content": 5}]})
        assert wrong_type.status_code == 400 and wrong_type.json()["error"]["message"].startswith("messages.0.content")
        for limit in ("abc", "0", "1001", "-1"):
            assert httpx.get(base + f"/v1/runs?limit={limit}").status_code == 400, limit
        assert httpx.get(base + "/v1/runs?limit=1000").status_code == 200


def test_request_timeout_is_an_error_not_a_hang() -> None:
    with running(service("sleepy"), ServeConfig(request_timeout_s=0.3)) as base:
        with pytest.raises(openai.APIStatusError, match="request timeout") as err:
            client(base).chat.completions.create(model="agentroute", messages=[{"role": "user", "content": "hi"}])
        assert err.value.status_code == 504
        assert err.value.response.headers["x-should-retry"] == "false"  # the agents ran: do not run them again
        chunks = list(
            client(base).chat.completions.create(
                model="agentroute", stream=True, messages=[{"role": "user", "content": "hi"}]
            )
        )
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].agentroute["event"] == "error"
    assert "request timeout" in "".join(c.choices[0].delta.content or "" for c in chunks)


def test_inspector_page_is_self_contained() -> None:
    with running(service("alpha")) as base:
        page = httpx.get(base + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<svg" in page.text and "/v1/chat/completions" in page.text
    assert "http://" not in page.text.replace("http://www.w3.org/2000/svg", "")  # no CDN, no external fetch
    assert "https://" not in page.text


def test_a_calibrated_router_served_reports_its_budget_charged_with_real_costs() -> None:
    """``GET /v1/budget``: the target and what the requests spent, as the agents reported it (here 1.5x the
    prices the router was calibrated on, so predictions alone would say less)."""
    unpaced = RoutingService(pool("alpha", "beta"), make_router("all"), open_store("memory"))
    with running(unpaced) as base:
        assert httpx.get(base + "/v1/budget").json() == {"object": "list", "data": []}
    svc, target = budgeted_service(markup=1.5)
    with running(svc) as base:
        assert httpx.get(base + "/v1/budget").json()["data"][0]["questions"] == 0
        c = client(base)
        costs = [
            c.chat.completions.create(
                model="agentroute", messages=[{"role": "user", "content": priced_question(1000 + i)}]
            ).agentroute["cost"]
            for i in range(100)
        ]
        (budget,) = httpx.get(base + "/v1/budget").json()["data"]
    assert budget["model"] == "agentroute" and budget["router"] == "knn"
    assert budget["target_cost"] == pytest.approx(target)
    assert (budget["questions"], budget["charged"]) == (100, 100)
    assert budget["spent"] == pytest.approx(sum(costs))  # the reported costs, not the predicted ones
    assert budget["per_question"] == pytest.approx(sum(costs) / 100)
    assert abs(budget["per_question"] - target) <= 0.1 * target  # 1.01x: the stream rescaled by the markup


def test_errors_keep_openai_codes_and_shape() -> None:
    with running(service("alpha")) as base:
        c, url = client(base), base + "/v1/chat/completions"
        with pytest.raises(openai.BadRequestError) as err:  # what OpenAI callers catch for a bad request
            c.chat.completions.create(model="agentroute", messages=[{"role": "system", "content": "hi"}])
        assert err.value.body["param"] == "messages" and "no user message" in err.value.body["message"]
        two = httpx.post(url, json={"model": "agentroute", "n": 2, "messages": [{"role": "user", "content": "x"}]})
        assert two.status_code == 400 and two.json()["error"]["param"] == "n"
        yes = httpx.post(url, json={"stream": "yes", "messages": [{"role": "user", "content": "x"}]})
        assert yes.status_code == 400 and yes.json()["error"]["param"] == "stream"
        assert c.models.retrieve("agentroute:all").id == "agentroute:all"
        with pytest.raises(openai.NotFoundError, match="unknown model 'gpt-4o'"):
            c.models.retrieve("gpt-4o")
        for method, path, status in (("GET", "/v1/nowhere", 404), ("DELETE", "/v1/models", 405)):
            resp = httpx.request(method, base + path)
            assert resp.status_code == status and set(resp.json()["error"]) == {"message", "type", "param", "code"}
            assert status != 405 or "GET" in resp.headers["allow"]
        unset = httpx.post(url, json={"model": "agentroute", "n": None, "messages": [{"role": "user", "content": "x"}]})
        assert unset.status_code == 200  # OpenAI accepts n: null
        pasted = httpx.get(base + f"/nope/{SECRET}/bolt://neo4j:hunter2@db")
        message = pasted.json()["error"]["message"]
        assert pasted.status_code == 404 and SECRET not in message and "hunter2" not in message


def test_a_multi_round_router_streams_its_agents_then_its_answer() -> None:
    from agentroute import AgentPool
    from agentroute.routers.multiround import MultiRoundRouter
    from agentroute.testing.scripted import ScriptedChatModel

    def turns(messages: list[dict[str, str]], params: dict) -> str:
        if any(m["content"].startswith("<information>") for m in messages if m["role"] == "user"):
            return "<think>alpha said it</think><answer>Seine</answer>"
        return "<think>ask alpha</think><search> alpha: Which river flows through Lyon? </search>"

    router = MultiRoundRouter(ScriptedChatModel(turns))
    svc = RoutingService(AgentPool(pool("alpha", "beta")), router, open_store("memory"), fitted=True)
    with running(svc) as base:
        chunks = list(
            client(base).chat.completions.create(
                model="agentroute",
                stream=True,
                messages=[{"role": "user", "content": "Which river flows through Lyon?"}],
            )
        )
    events = [(c.model_extra or {}).get("agentroute", {}).get("event") for c in chunks]
    assert "error" not in events and events.count("agent") == 1, events
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Seine"


def test_a_client_that_leaves_mid_stream_cancels_the_agents_still_running() -> None:
    import asyncio
    import logging
    import threading

    from serve_helpers import alpha

    from agentroute import Agent, AgentPool

    cancelled = threading.Event()

    class Waits(Agent):
        async def arun(self, query):  # type: ignore[no-untyped-def]
            try:
                await asyncio.sleep(20)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return "late"

    errors: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: errors.append(record.getMessage())  # type: ignore[method-assign]
    uvicorn_log = logging.getLogger("uvicorn.error")
    svc = RoutingService(AgentPool([alpha, Waits(name="waits")]), make_router("all"), open_store("memory"))
    with running(svc) as base:
        uvicorn_log.addHandler(handler)
        try:
            ask = {"model": "agentroute", "stream": True, "messages": [{"role": "user", "content": "Which river?"}]}
            with httpx.stream("POST", base + "/v1/chat/completions", json=ask, timeout=30) as r:
                for line in r.iter_lines():
                    if '"event":"agent"' in line:  # alpha answered; waits is still running: leave
                        break
            assert cancelled.wait(10), "the agent kept running after the client left"
            assert svc.runs() == []  # an answer nobody received is not recorded
        finally:
            uvicorn_log.removeHandler(handler)
    assert not [e for e in errors if "Exception in ASGI application" in e], errors
