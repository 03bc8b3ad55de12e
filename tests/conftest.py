"""Fixtures shared by every test folder."""

from agentroute.testing.fixtures import chat_server, llm_endpoint  # noqa: F401
from agentroute.threads import set_torch_threads

# The test session is the application: one intra-op thread, as the CLI uses (see agentroute.threads).
set_torch_threads(1)
