"""Fixtures shared by every test folder."""

from agentroute.testing.fixtures import chat_server, llm_endpoint  # noqa: F401
