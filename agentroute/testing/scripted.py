"""``ScriptedChatModel``: a ``ChatModel`` that never opens a socket, for unit tests (scripted replies).

The pydantic-ai ``TestModel``/``FunctionModel`` idea: replies come from a list, in order, or from a
function of the request; an ``Exception`` in the script is raised, as a failing endpoint would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentroute.llm import Completion, LLMError, Message, as_prices, count_tokens, cut_at_stop, price_for
from agentroute.types import TokenUsage

Script = Sequence["str | Exception"] | Callable[[list[dict[str, str]], dict[str, Any]], "str | Exception"]


class ScriptedChatModel:
    """A chat model that never opens a socket: replies come from a list (in order) or a function of
    ``(messages, params)``; an ``Exception`` in the script is raised. Honours ``stop`` like a server.

    Every call is recorded in ``calls`` as ``(messages, params)``.
    """

    def __init__(self, script: Script, model: str = "scripted", prices: Mapping[str, Any] | None = None) -> None:
        self.model = model
        self.prices = as_prices(prices)
        self._script = script
        self._next = 0
        self.calls: list[tuple[list[dict[str, str]], dict[str, Any]]] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ScriptedChatModel(model={self.model!r}, calls={len(self.calls)})"

    def complete(self, messages: Sequence[Message], **params: Any) -> Completion:
        started = time.perf_counter()
        msgs = [dict(m) for m in messages]
        with self._lock:
            self.calls.append((msgs, dict(params)))
            if callable(self._script):
                reply = self._script(msgs, dict(params))
            else:
                if self._next >= len(self._script):
                    raise LLMError(f"scripted model {self.model!r}: script exhausted after {self._next} replies")
                reply = self._script[self._next]
                self._next += 1
        if isinstance(reply, Exception):
            raise reply
        text, stopped = cut_at_stop(str(reply), params.get("stop"))
        usage = TokenUsage(
            prompt_tokens=sum(count_tokens(m.get("content", "")) for m in msgs),
            completion_tokens=count_tokens(text),
            calls=1,
        )
        price = price_for(self.prices, self.model)
        return Completion(
            text=text,
            model=self.model,
            usage=usage,
            cost_usd=price.cost(usage) if price else 0.0,
            latency_s=time.perf_counter() - started,
            finish_reason="stop",
        )

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> Completion:
        return self.complete(messages, **params)
