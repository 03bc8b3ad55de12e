"""Fixtures shared by every test folder."""

import pytest

from agentroute.testing.fixtures import chat_server, llm_endpoint  # noqa: F401
from agentroute.threads import set_torch_threads

# The test session is the application: one intra-op thread, as the CLI uses (see agentroute.threads).
set_torch_threads(1)


@pytest.fixture
def no_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LLM endpoint, key, model or prices from the developer's environment (tests configure their own)."""
    for var in ("AGENTROUTE_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "AGENTROUTE_API_KEY",
                "AGENTROUTE_LLM_MODEL", "AGENTROUTE_PRICES"):
        monkeypatch.delenv(var, raising=False)
