"""Progress events of one run: the routing decision, a review of it, each agent's start and finish, the answer.

Why: a host app (or ``agentroute ask --stream``) wants to show what is happening before the answer exists.
Every event is a plain JSON-able dict with an ``event`` field. Inside a LangGraph node it is sent two ways
at once: to LangGraph's custom stream (``graph.stream(..., stream_mode="custom")``, via
``get_stream_writer``) and as a LangChain custom event named ``agentroute`` (``graph.astream_events``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentroute.types import AgentResult, RoutingDecision

#: The name of agentroute's events in ``astream_events`` (``event == "on_custom_event"``).
EVENT_NAME = "agentroute"

Event = dict[str, Any]


def decision_event(decision: RoutingDecision) -> Event:
    return {
        "event": "decision",
        "router": decision.router,
        "selected": list(decision.selected),
        "probs": dict(decision.probs),
        "rationale": decision.rationale,
        "early_stop": decision.early_stop,
    }


def review_event(action: str, decision: RoutingDecision) -> Event:
    """A person accepted, edited or rejected the decision (see ``agentroute/approval.py``)."""
    return {"event": "review", "action": action, "selected": list(decision.selected)}


def agent_start_event(agent: str) -> Event:
    return {"event": "agent_start", "agent": agent}


def agent_finish_event(result: AgentResult) -> Event:
    return {
        "event": "agent_finish",
        "agent": result.agent,
        "answer": result.answer,
        "latency_s": result.latency_s,
        "cost": result.cost,
        "error": result.error,
    }


def answer_event(text: str, support: dict[str, float], results: Sequence[AgentResult]) -> Event:
    return {"event": "answer", "answer": text, "support": dict(support), "called": sorted(r.agent for r in results)}


def emit(event: Event) -> None:
    """Send an event from a synchronous node (a no-op for the custom stream when nobody streams it)."""
    from langchain_core.callbacks import dispatch_custom_event
    from langgraph.config import get_stream_writer

    get_stream_writer()(event)
    if _has_listeners():
        dispatch_custom_event(EVENT_NAME, event)


async def aemit(event: Event) -> None:
    """Send an event from an asynchronous node."""
    from langchain_core.callbacks import adispatch_custom_event
    from langgraph.config import get_stream_writer

    get_stream_writer()(event)
    if _has_listeners():
        await adispatch_custom_event(EVENT_NAME, event)


def _has_listeners() -> bool:
    """Whether the node's run has callback handlers (``astream_events``, a tracer) to send the event to.

    Why: dispatching configures a callback manager per event, which was a good part of a question's time
    outside model calls; with no handler LangChain would drop the event anyway. Anything but a manager
    without handlers under a parent run (a list, no run at all) is left to LangChain to judge.
    """
    from langchain_core.callbacks import BaseCallbackManager
    from langgraph.config import get_config

    callbacks = get_config().get("callbacks")
    if isinstance(callbacks, BaseCallbackManager) and callbacks.parent_run_id is not None:
        return bool(callbacks.handlers)
    return True


def format_event(event: Event) -> str:
    """One human-readable line per event (what ``ask --stream`` prints)."""
    kind = event.get("event")
    if kind == "decision":
        probs = ", ".join(f"{a} {event['probs'].get(a, 0.0):.2f}" for a in event["selected"])
        why = f" ({event['rationale']})" if event.get("rationale") else ""
        return f"routed by {event['router']}: {probs or 'no agent'}{why}"
    if kind == "review":
        return f"review: {event['action']} -> {', '.join(event['selected']) or 'no agent'}"
    if kind == "agent_start":
        return f"  {event['agent']} started"
    if kind == "agent_finish":
        outcome = f"error: {event['error']}" if event["error"] else repr(event["answer"])
        return f"  {event['agent']} finished in {event['latency_s']:.3f} s (cost {event['cost']:g}): {outcome}"
    if kind == "answer":
        return f"answer: {event['answer'] or '(no answer)'}"
    return str(event)
