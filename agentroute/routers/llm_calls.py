"""What both LLM routers share: the chat model they are given (or find in the environment), a call that
never raises, and the running total of tokens, dollars and seconds a decision spent.

Why: a router's LLM call can fail (endpoint down, script exhausted, 5xx after retries); routing must then
fall back or end gracefully, never raise, and the spend of every call must still be accounted.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentroute.llm import UsesChatModel
from agentroute.secrets import redact
from agentroute.types import QueryGraph, RoutingDecision, TokenUsage

if TYPE_CHECKING:  # pragma: no cover
    from agentroute.llm import ChatModel, Completion, Message


class ChatRouter(UsesChatModel):
    """Base of the LLM routers: the chat model they call, given as an object, a model name or nothing.

    A name (or nothing: the default model) is bound to an endpoint by ``connect(settings)`` (the CLI's
    ``--base-url`` / ``--llm-model`` / ``--api-key-env`` / ``--prices``; unset: the environment), or on first
    use; building the router never opens a connection, so listing or validating routers needs no endpoint.
    """

    def _use(self, llm: ChatModel | str | None, concurrency: int = 8) -> None:
        self._use_model(llm)
        self.concurrency = max(1, concurrency)

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]:
        """``route`` for each graph, up to ``concurrency`` model calls at once (the endpoint's own limit still
        applies), in input order: a benchmark does not wait for one question's call before the next."""
        if len(graphs) <= 1 or self.concurrency <= 1:
            return [self.route(g, k) for g in graphs]  # type: ignore[attr-defined]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(graphs))) as pool:
            return list(pool.map(lambda g: self.route(g, k), graphs))  # type: ignore[attr-defined]


@dataclass
class Spend:
    """Tokens, dollars and model seconds summed over a decision's LLM calls."""

    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    latency_s: float = 0.0

    def add(self, completion: Completion) -> None:
        self.usage = self.usage + completion.usage
        self.cost_usd += completion.cost_usd
        self.latency_s += completion.latency_s


def call(llm: ChatModel, messages: Sequence[Message], spend: Spend, **params: Any) -> tuple[str | None, str | None]:
    """``(text, None)`` or ``(None, one-line error)``; the call's usage is added to ``spend``."""
    try:
        completion = llm.complete(messages, **params)
    except Exception as e:  # noqa: BLE001 - a router's model failing must not fail the question
        return None, _error_line(e)
    spend.add(completion)
    return completion.text, None


async def acall(
    llm: ChatModel, messages: Sequence[Message], spend: Spend, **params: Any
) -> tuple[str | None, str | None]:
    """The async ``call``."""
    try:
        completion = await llm.acomplete(messages, **params)
    except Exception as e:  # noqa: BLE001
        return None, _error_line(e)
    spend.add(completion)
    return completion.text, None


def _error_line(e: Exception) -> str:
    """One line for a rationale: a router model's error may quote a key or a URL with credentials."""
    text = " ".join(str(e).split())
    return redact(f"{type(e).__name__}: {text}" if text else type(e).__name__)
