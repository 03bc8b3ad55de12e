"""Synchronous ``AgentRoute`` calls run on a fresh event loop each; the async chat client an
``OpenAIChatModel`` opened for that loop is closed before the loop goes (else it is cleaned up later, on
whatever loop runs then, where closing it fails)."""

from __future__ import annotations

from typing import Any

from agentroute import AgentRoute
from agentroute.agents.llm import LLMAgent
from agentroute.llm import OpenAIChatModel
from agentroute.testing.chat_server import ChatServer


class Recording(OpenAIChatModel):
    """Keeps every async client it opens, to check they were closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clients: list[Any] = []

    def _aclient(self) -> Any:
        client = super()._aclient()
        if all(client is not c for c in self.clients):
            self.clients.append(client)
        return client


def test_each_sync_call_closes_the_clients_it_opened() -> None:
    with ChatServer(lambda req: "Answer: 42") as server:
        model = Recording("m", base_url=server.url, max_retries=0)
        with AgentRoute([LLMAgent("llm", model, "direct")], "all") as ar:
            assert ar.ask("What is it?").text == "42"
            assert [a.text for a in ar.ask_many(["One?", "Two?"])] == ["42", "42"]
    assert len(model.clients) == 2
    assert all(client.is_closed() for client in model.clients)


def test_a_sync_langgraph_invoke_closes_the_clients_each_agent_call_opened() -> None:
    # Under graph.invoke every agent call runs on its own event loop on LangGraph's worker thread.
    with ChatServer(lambda req: "Answer: 42") as server:
        model = Recording("m", base_url=server.url, max_retries=0)
        with AgentRoute([LLMAgent("llm", model, "direct")], "all") as ar:
            graph = ar.as_graph().compile()
            for i in range(4):
                assert graph.invoke({"question": f"Question {i}?"})["answer"] == "42"
    assert len(model.clients) == 4
    assert all(client.is_closed() for client in model.clients)
    assert len(model._async) == 0


def test_clients_of_event_loops_that_ended_are_dropped_not_kept() -> None:
    # A caller that runs asyncio.run per question on the async API: the clients of ended loops must not
    # pile up (each one's connections refer to its loop, so weak keys alone never free them).
    import asyncio

    with ChatServer(lambda req: "Answer: 42") as server:
        model = Recording("m", base_url=server.url, max_retries=0)
        with AgentRoute([LLMAgent("llm", model, "direct")], "all") as ar:
            for i in range(5):
                assert asyncio.run(ar.aask(f"Question {i}?")).text == "42"
            assert len(model._async) == 1  # only the last loop's client is still held
    assert len(model.clients) == 5


def test_close_closes_the_sync_clients_of_models_built_from_a_name_only() -> None:
    from agentroute.llm import LLMSettings

    with ChatServer(lambda req: "Answer: 42") as server:
        given = OpenAIChatModel("given", base_url=server.url, max_retries=0)
        built = LLMAgent("built", "m", "direct")
        built.connect(LLMSettings(base_url=server.url))
        ar = AgentRoute([LLMAgent("given", given, "direct"), built], "all")
        assert [r.answer for r in ar.ask("What is it?").results] == ["42", "42"]
        given.complete([{"role": "user", "content": "hi"}])
        built.chat.complete([{"role": "user", "content": "hi"}])
        given_client, built_client = given._sync_client, built.chat._sync_client  # type: ignore[attr-defined]
        ar.close()
    assert built_client.is_closed() and built.chat._sync_client is None  # type: ignore[attr-defined]
    assert not given_client.is_closed() and given._sync_client is given_client
    given.close()
