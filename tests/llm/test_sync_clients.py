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
