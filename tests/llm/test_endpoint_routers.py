"""The LLM routers against an endpoint: the scripted server by default (its generic reply is no router
format at all), or a real tiny model when AGENTROUTE_TEST_LLM_URL is set. Routing quality is not judged:
whatever the model writes must end in a valid decision (a fallback, if need be), never a crash."""

from __future__ import annotations

import pytest

from agentroute.agents.base import agent
from agentroute.llm import OpenAIChatModel
from agentroute.routers.multiround import MultiRoundRouter
from agentroute.routers.reasoning import ReasoningRouter
from agentroute.types import Query
from agentroute.workflow import AgentRoute

pytestmark = pytest.mark.llm_endpoint


@agent(name="calculator", description="Evaluates arithmetic such as 2 plus 3.")
def calculator(q: Query) -> str:
    return "5"


@agent(name="geographer", description="Knows capitals of countries.")
def geographer(q: Query) -> str:
    return "Paris"


def model_for(endpoint) -> OpenAIChatModel:
    return OpenAIChatModel(endpoint.model, base_url=endpoint.base_url, api_key=endpoint.api_key)


def test_reasoning_router_ends_in_a_valid_decision(llm_endpoint):
    router = ReasoningRouter(model_for(llm_endpoint), max_tokens=48, fallback="all")
    answer = AgentRoute([calculator, geographer], router).ask("What is 2 plus 3?")
    d = answer.decision
    assert set(d.selected) <= {"calculator", "geographer"} and d.rationale
    assert d.answer is not None or d.selected  # out of scope, or some agents chosen
    assert d.usage is not None and d.usage.calls == 1 and d.usage.completion_tokens > 0


def test_multiround_router_ends_gracefully(llm_endpoint):
    router = MultiRoundRouter(model_for(llm_endpoint), max_turns=2, max_tokens=48)
    answer = AgentRoute([calculator, geographer], router).ask("What is 2 plus 3?")
    d = answer.decision
    assert isinstance(answer.text, str) and d.answer == answer.text and d.rationale
    assert d.usage is not None and 1 <= d.usage.calls <= 4  # 2 turns, each with at most one retry
    assert d.trajectory is not None and set(d.selected) <= {"calculator", "geographer"}
