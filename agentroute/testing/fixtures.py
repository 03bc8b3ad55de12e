"""pytest fixtures for LLM code: a scripted Chat Completions server, or a real endpoint when asked.

Import them in a ``conftest.py``::

    from agentroute.testing.fixtures import chat_server, llm_endpoint  # noqa: F401

``llm_endpoint`` is a scripted server unless ``AGENTROUTE_TEST_LLM_URL`` (and ``AGENTROUTE_TEST_LLM_MODEL``)
name a real OpenAI-compatible endpoint, as ``NEO4J_URI`` does for the graph store. Tests written against
it must then check plumbing only (a real model's answers are not scripted).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from agentroute.testing.chat_server import ChatRequest, ChatServer, ScriptItem, ServerScript


@dataclass(frozen=True)
class LLMEndpoint:
    """Where a test's LLM lives. ``server`` is the scripted server, or None for a real endpoint."""

    base_url: str
    model: str
    server: ChatServer | None = None
    api_key: str | None = None

    @property
    def real(self) -> bool:
        return self.server is None


def default_reply(request: ChatRequest) -> ScriptItem:
    """A generic scripted answer: enough for plumbing tests that do not script their own replies."""
    return "Reasoning: short.\nAnswer: 42"


@pytest.fixture
def chat_server() -> Iterator[Callable[..., ChatServer]]:
    """Factory: ``chat_server(script, **options)`` starts a server, stopped when the test ends."""
    started: list[ChatServer] = []

    def start(script: ServerScript, **options: Any) -> ChatServer:
        server = ChatServer(script, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def llm_endpoint() -> Iterator[LLMEndpoint]:
    """The real endpoint named by ``AGENTROUTE_TEST_LLM_URL``, else a scripted server with ``default_reply``."""
    url = os.environ.get("AGENTROUTE_TEST_LLM_URL")
    if url:
        model = os.environ.get("AGENTROUTE_TEST_LLM_MODEL", "default")
        yield LLMEndpoint(base_url=url, model=model, api_key=os.environ.get("AGENTROUTE_TEST_LLM_KEY"))
        return
    with ChatServer(default_reply) as server:
        yield LLMEndpoint(base_url=server.url, model="scripted", server=server)
