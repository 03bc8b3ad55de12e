"""The OpenAI Chat Completions wire format: request models, completion and chunk bodies, error bodies.

A response is a normal Chat Completion (or chunk stream) that any OpenAI client reads unchanged; the
routing decision rides along in the extra ``agentroute`` field, which clients keep as an extra attribute.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from agentroute.serve.service import BASE_MODEL, Served
from agentroute.types import AgentResult, Answer, RoutingDecision, TokenUsage


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = "text"
    text: str = ""


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """The fields agentroute reads; sampling options (temperature, max_tokens, …) are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = BASE_MODEL
    messages: list[Message] = Field(min_length=1)
    stream: StrictBool = False
    n: int | None = Field(default=1, ge=1, le=1, description="agentroute returns one answer per request")
    stream_options: StreamOptions | None = None
    include_graph: bool = False  # agentroute extra: stream the query graph first (the inspector uses it)

    def question_and_context(self) -> tuple[str, list[str]]:
        """The last user message is the question; every other message (in order) is context."""
        for i in range(len(self.messages) - 1, -1, -1):
            if self.messages[i].role == "user":
                rest = self.messages[:i] + self.messages[i + 1 :]
                return self.messages[i].text(), [f"{m.role}: {m.text()}" for m in rest if m.text()]
        raise ValueError("messages has no user message: the last user message is the question")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    score: float | None = Field(default=None, ge=0.0, le=1.0)
    preferred: str | None = Field(default=None, max_length=10_000)
    scores: dict[str, float] | None = None


@dataclass(frozen=True)
class Redaction:
    """What the server blanks out of what it sends: ``errors`` (error text, rationales, paths: every known
    secret) and ``answers`` (answers: key-shaped text and the longer known secrets, ``answer_redactor``,
    so an answer saying "secret" stays whole when some password is "secret")."""

    errors: Callable[[str | None], str | None]
    answers: Callable[[str | None], str | None]


def agent_view(r: AgentResult, redact: Redaction) -> dict[str, Any]:
    return {
        "agent": r.agent,
        "answer": redact.answers(r.answer),
        "error": redact.errors(r.error),
        "cost": r.cost,
        "latency_s": round(r.latency_s, 6),
    }


def decision_view(d: RoutingDecision, redact: Redaction) -> dict[str, Any]:
    """The decision as the API shows it (a rationale may quote a router model's error: redacted)."""
    return {
        "router": d.router,
        "selected": list(d.selected),
        "probs": {a: round(p, 6) for a, p in d.probs.items()},
        "rationale": redact.errors(d.rationale),
        "early_stop": d.early_stop,
        "cold_start": list(d.cold_start),
    }


def _spent(answer: Answer) -> tuple[list[TokenUsage | None], float, float]:
    """Token usages and costs of one answer: every agent called, the router, the aggregator."""
    usages = [r.usage for r in answer.results] + [answer.decision.usage, answer.usage]
    return usages, sum(r.cost for r in answer.results), answer.decision.cost + answer.cost


def usage(answer: Answer) -> dict[str, int]:
    """Tokens summed over the agents called, the router and the aggregator (tool agents report none)."""
    usages, _, _ = _spent(answer)
    prompt = sum(u.prompt_tokens for u in usages if u is not None)
    completion = sum(u.completion_tokens for u in usages if u is not None)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def routing(served: Served, redact: Redaction) -> dict[str, Any]:
    """The ``agentroute`` extra field: the decision, every called agent's answer, cost and latency."""
    answer = served.answer
    _, agents_cost, own_cost = _spent(answer)
    return {
        **decision_view(answer.decision, redact),
        "called": [r.agent for r in answer.results],
        "failed": [r.agent for r in served.failed],
        "agents": [agent_view(r, redact) for r in answer.results],
        "support": {str(redact.answers(a)): round(w, 6) for a, w in answer.support.items()},  # keyed by answer
        "cost": agents_cost + own_cost,
        "agents_cost": agents_cost,
        "latency_s": round(served.latency_s, 6),
    }


def content(served: Served, redact: Redaction) -> str:
    """The assistant message: the answer (redacted: an agent may echo a secret), or a sentence saying which
    agents failed and why."""
    if served.answer.text:
        return str(redact.answers(served.answer.text))
    failed = served.failed
    if failed:
        why = "; ".join(f"{r.agent}: {redact.errors(r.error)}" for r in failed)
        return f"No answer: {len(failed)} agent(s) failed ({why})."
    if not served.answer.results:
        return "No answer: the router selected no agent."
    return "No answer: the agents called gave no answer."


def completion(served: Served, redact: Redaction) -> dict[str, Any]:
    return {
        "id": served.id,
        "object": "chat.completion",
        "created": served.created,
        "model": served.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content(served, redact)},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage(served.answer),
        "agentroute": routing(served, redact),
    }


def chunk(
    id: str,
    model: str,
    created: int,
    delta: dict[str, Any],
    finish: str | None = None,
    extra: dict[str, Any] | None = None,
    usage_follows: bool = False,
) -> bytes:
    """One server-sent event in the ``chat.completion.chunk`` format; ``usage_follows`` (the request asked
    for usage) gives it ``"usage": null``, as OpenAI does on every chunk before the usage chunk."""
    body: dict[str, Any] = {
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    if usage_follows:
        body["usage"] = None
    if extra is not None:
        body["agentroute"] = extra
    return sse(body)


def sse(body: Any) -> bytes:
    return b"data: " + json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def error_body(message: str, type: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """The OpenAI error shape, so clients raise their usual exception with this message."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def header_decision(served: Served) -> str:
    """The routing decision, compact, for the ``x-agentroute-decision`` response header (ASCII JSON)."""
    d = served.answer.decision
    return json.dumps(
        {
            "router": d.router,
            "selected": d.selected,
            "called": [r.agent for r in served.answer.results],
            "probs": {a: round(p, 4) for a, p in d.probs.items()},
        },
        separators=(",", ":"),
    )
