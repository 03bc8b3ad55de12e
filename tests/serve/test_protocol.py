"""What the server's responses say about one answer: costs summed over everyone who spent, secrets blanked."""

from __future__ import annotations

from agentroute import Answer, Query
from agentroute.secrets import answer_redactor, redactor
from agentroute.serve.protocol import Redaction, routing, usage
from agentroute.serve.service import Served
from agentroute.types import AgentResult, RoutingDecision, TokenUsage

SECRET = "hunter2-very-secret-value"


def _served() -> Served:
    decision = RoutingDecision(
        router="reasoning",
        probs={"alpha": 1.0},
        selected=["alpha"],
        rationale=f"router model failed: 401 for key {SECRET}; fell back to knn",
        usage=TokenUsage(prompt_tokens=100, completion_tokens=10),
        cost=0.004,
    )
    results = [
        AgentResult(agent="alpha", answer="Seine", cost=0.01, usage=TokenUsage(prompt_tokens=5, completion_tokens=1)),
        AgentResult(agent="beta", error=f"connect to https://u:{SECRET}@db failed"),
    ]
    answer = Answer(
        text="Seine",
        decision=decision,
        results=results,
        cost=0.002,
        usage=TokenUsage(prompt_tokens=7, completion_tokens=2),
    )
    return Served(id="r1", model="agentroute", query=Query(text="Which river?"), answer=answer, latency_s=0.5)


def test_the_router_and_the_aggregator_count_in_cost_and_usage() -> None:
    redact = Redaction(errors=redactor([SECRET]), answers=answer_redactor([SECRET]))
    view = routing(_served(), redact)
    assert view["agents_cost"] == 0.01
    assert abs(view["cost"] - (0.01 + 0.004 + 0.002)) < 1e-12
    assert usage(_served().answer) == {"prompt_tokens": 112, "completion_tokens": 13, "total_tokens": 125}


def test_a_rationale_or_an_agent_error_quoting_a_secret_is_blanked() -> None:
    redact = Redaction(errors=redactor([SECRET]), answers=answer_redactor([SECRET]))
    view = routing(_served(), redact)
    assert SECRET not in str(view)
    assert view["rationale"] == "router model failed: 401 for key ***; fell back to knn"
    assert view["agents"][0]["answer"] == "Seine"
