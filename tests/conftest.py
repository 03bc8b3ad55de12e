"""Fixtures shared by every test folder."""

import sys
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from agentroute import Query, agent
from agentroute.testing.fixtures import chat_server, llm_endpoint  # noqa: F401
from agentroute.testing.registries import restored_registries
from agentroute.threads import set_torch_threads

# The test session is the application: one intra-op thread, as the CLI uses (see agentroute.threads).
set_torch_threads(1)

CountingAgents = Callable[[dict[str, str], Counter[str]], list]


@pytest.fixture(autouse=True)
def _registries_restored() -> Iterator[None]:
    """Whatever a test registers (itself, or through an ``--agents`` file it loads) is gone after it, so no
    test sees another's routers, stores, aggregators, embedders or extractors."""
    with restored_registries():
        yield


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many hostile inputs the property tests tried this run (the README quotes it)."""
    tried = getattr(sys.modules.get("test_hostile_input"), "TRIED", None)
    if tried:
        per = ", ".join(f"{k} {v}" for k, v in tried.items())
        terminalreporter.write_line(f"hostile inputs tried: {sum(tried.values())} ({per})")


@pytest.fixture
def no_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LLM endpoint, key, model or prices from the developer's environment (tests configure their own)."""
    for var in (
        "AGENTROUTE_BASE_URL",
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
        "AGENTROUTE_API_KEY",
        "AGENTROUTE_LLM_API_KEY",
        "AGENTROUTE_LLM_MODEL",
        "AGENTROUTE_PRICES",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def counting_agents() -> CountingAgents:
    """A factory of agents that give fixed replies (name -> reply) and count their calls in ``calls``."""

    def make(answers: dict[str, str], calls: Counter[str]) -> list:
        out = []
        for name, reply in answers.items():

            def fn(q: Query, name: str = name, reply: str = reply) -> str:
                calls[name] += 1
                return reply

            out.append(agent(name=name)(fn))
        return out

    return make
