"""``Node``: a router-graph step that runs its own sync or async body in place, under ``invoke`` and ``ainvoke``.

Why: LangGraph runs a plain sync function under ``ainvoke`` on a thread pool (one thread hop per node and
per conditional edge), and ``RunnableLambda`` inspects its function's signature and opens a callback run of
its own on every call, inside the run LangGraph already opened for the node. For the router graph's cheap
steps (fan-out, ``settle``) and its async ones (agents, aggregation) that was most of the time a question
spent outside model calls. A ``Node`` calls its body directly; LangGraph still traces the node itself, and
its config (stream writer, callbacks) is in context as usual. Steps that may block stay plain functions,
which LangGraph keeps off the event loop: building the query graph (store reads may be I/O or wait on a
writer's lock, and the first build loads and embeds the store's whole history) and a sync router that does
not declare ``nonblocking``.

Imported when a graph is built (it needs ``langchain_core``), never on ``import agentroute``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig


class Node(Runnable[Any, Any]):
    """``func`` under ``invoke``; ``afunc`` (default: ``func``, called on the event loop) under ``ainvoke``."""

    def __init__(
        self, name: str, func: Callable[[Any], Any], afunc: Callable[[Any], Awaitable[Any]] | None = None
    ) -> None:
        self.name, self.func, self.afunc = name, func, afunc

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self.func(input)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        if self.afunc is None:
            return self.func(input)
        return await self.afunc(input)
