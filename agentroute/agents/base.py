"""Defining agents: the ``Agent`` base class, ``FunctionAgent`` and the ``@agent`` decorator.

An agent receives a ``Query`` (gold stripped) and returns a string or an ``AgentResult``. ``invoke``
wraps every call: it times it, enforces a timeout, and turns any exception into ``AgentResult.error``
so a failing agent never fails the question.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, overload

from pydantic import ValidationError

from agentroute.agents.executor import run_sync
from agentroute.secrets import redact
from agentroute.types import AgentResult, AgentSpec, Query

log = logging.getLogger("agentroute.agents")


class AgentDefinitionError(ValueError):
    """An agent is defined wrongly (bad name, bad signature, duplicate name, …)."""


def make_spec(
    name: str,
    description: str = "",
    skills: Sequence[str] = (),
    cost_per_call: float | None = None,
    model: str | None = None,
    strategy: str | None = None,
) -> AgentSpec:
    declared = {} if cost_per_call is None else {"cost_per_call": cost_per_call}  # unset: nothing said
    try:
        return AgentSpec(
            name=name,
            description=description,
            skills=[skills] if isinstance(skills, str) else list(skills),  # "math" is one skill, not four
            model=model,
            strategy=strategy,
            **declared,
        )
    except ValidationError as e:
        msg = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise AgentDefinitionError(f"agent {name!r}: {msg}") from None


class Agent:
    """Base class for stateful agents: override ``run`` (sync) or ``arun`` (async)."""

    spec: AgentSpec

    def __init__(
        self,
        name: str,
        description: str = "",
        skills: Sequence[str] = (),
        cost_per_call: float | None = None,
        model: str | None = None,
        strategy: str | None = None,
    ) -> None:
        self.spec = make_spec(name, description, skills, cost_per_call, model, strategy)

    @property
    def name(self) -> str:
        return self.spec.name

    def run(self, query: Query) -> str | AgentResult:
        raise NotImplementedError(f"agent {self.name!r} must override run() or arun()")

    async def arun(self, query: Query) -> str | AgentResult:
        if type(self).run is Agent.run:
            raise NotImplementedError(f"agent {self.name!r} must override run() or arun()")
        return await run_sync(self.run, query)

    async def invoke(self, query: Query, timeout: float | None = None) -> AgentResult:
        """Run the agent once; never raises (errors and timeouts come back in ``AgentResult.error``).

        At the deadline the call is cancelled and not waited for, so an agent that ignores cancellation
        cannot hold the question. (An async agent that blocks the event loop cannot be interrupted, and
        holds every other agent on that loop with it: blocking work belongs in a synchronous agent, which
        runs on a thread.)
        """
        start = time.perf_counter()
        ended: list[float] = []

        async def timed() -> object:
            try:
                return await self.arun(query.for_routing())
            except SystemExit as e:  # asyncio would re-raise it out of the loop, ending the host process
                raise RuntimeError(f"the agent called sys.exit({e.code!r})") from None
            finally:
                ended.append(time.perf_counter())

        call = asyncio.ensure_future(timed())
        try:
            done, _ = await asyncio.wait({call}, timeout=timeout)
        except asyncio.CancelledError:
            call.cancel()
            call.add_done_callback(_drop_late_outcome)
            raise
        elapsed = (ended[0] if ended else time.perf_counter()) - start
        if not done:
            call.cancel()
            call.add_done_callback(_drop_late_outcome)
            result = AgentResult(agent=self.name, error=f"timeout after {timeout:g}s")
        elif call.cancelled():  # not by us: the agent raised CancelledError itself
            result = AgentResult(agent=self.name, error="CancelledError: the agent was cancelled")
        else:
            try:
                result = self._as_result(call.result())
            except Exception as e:  # noqa: BLE001 - an agent failure must not fail the question
                result = AgentResult(agent=self.name, error=redact(f"{type(e).__name__}: {e}"))
                if log.isEnabledFor(logging.DEBUG):  # where it failed, for its author (redacted too)
                    log.debug("agent %s failed:\n%s", self.name, redact("".join(traceback.format_exception(e))))
        update: dict[str, Any] = {"latency_s": elapsed}
        if result.cost == 0.0:
            update["cost"] = self.spec.cost_per_call
        return result.model_copy(update=update)

    def _as_result(self, out: object) -> AgentResult:
        if isinstance(out, AgentResult):
            return out if out.agent == self.name else out.model_copy(update={"agent": self.name})
        if isinstance(out, str):
            return AgentResult(agent=self.name, answer=out)
        if out is None:
            return AgentResult(agent=self.name, error="agent returned no answer")
        if isinstance(out, (int, float)):
            return AgentResult(agent=self.name, answer=str(out))
        raise TypeError(f"agent {self.name!r} returned {type(out).__name__}; expected str or AgentResult")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _drop_late_outcome(call: asyncio.Future[Any]) -> None:
    """Read the outcome of a call nobody waits for any more, so asyncio does not log it as never retrieved."""
    if not call.cancelled():
        call.exception()


class FunctionAgent(Agent):
    """An agent backed by a plain function ``fn(query) -> str | AgentResult`` (sync or async)."""

    def __init__(self, fn: Callable[..., Any], **spec: Any) -> None:
        super().__init__(**spec)
        _check_signature(fn, self.name)
        self.fn = fn
        self._is_async = inspect.iscoroutinefunction(fn)

    def run(self, query: Query) -> str | AgentResult:
        return self.fn(query)

    async def arun(self, query: Query) -> str | AgentResult:
        if self._is_async:
            return await self.fn(query)
        return await run_sync(self.fn, query)


def _check_signature(fn: Callable[..., Any], name: str) -> None:
    if not callable(fn):
        raise AgentDefinitionError(f"agent {name!r}: expected a function, got {type(fn).__name__}")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(object())
    except TypeError:
        params = ", ".join(sig.parameters) or "no parameters"
        raise AgentDefinitionError(
            f"agent {name!r}: function {getattr(fn, '__qualname__', fn)!r} must take exactly one "
            f"positional argument (the Query), but its signature is ({params})"
        ) from None


@overload
def agent(fn: Callable[..., Any], /) -> FunctionAgent: ...


@overload
def agent(
    *,
    name: str | None = None,
    description: str | None = None,
    skills: Sequence[str] = (),
    cost_per_call: float | None = None,
    model: str | None = None,
    strategy: str | None = None,
) -> Callable[[Callable[..., Any]], FunctionAgent]: ...


def agent(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    skills: Sequence[str] = (),
    cost_per_call: float | None = None,
    model: str | None = None,
    strategy: str | None = None,
) -> FunctionAgent | Callable[[Callable[..., Any]], FunctionAgent]:
    """Turn a function into an agent; ``name`` defaults to the function name, ``description`` to its docstring.

    >>> @agent(name="echo", description="Repeats the question", skills=["testing"])
    ... def echo(q: Query) -> str:
    ...     return q.text
    """

    def wrap(f: Callable[..., Any]) -> FunctionAgent:
        agent_name = name or getattr(f, "__name__", "agent").replace("_", "-")
        doc = description if description is not None else inspect.getdoc(f) or ""
        return FunctionAgent(
            f,
            name=agent_name,
            description=doc,
            skills=skills,
            cost_per_call=cost_per_call,
            model=model,
            strategy=strategy,
        )

    if fn is not None:
        return wrap(fn)
    return wrap
