"""Human approval of a routing decision: what a reviewer is shown, and how their reply changes the decision.

Why: some deployments must not call (costly, side-effecting) agents before a person agreed. The router graph
built with ``approval=True`` pauses after routing with LangGraph's ``interrupt(approval_request(...))``;
the host resumes it with ``Command(resume=reply)`` where ``reply`` is one of

- ``"accept"`` (or ``{"action": "accept"}``): run the decision as it is;
- ``{"action": "edit", "agents": ["a", "b"]}`` (or just the list ``["a", "b"]``): run these agents instead;
- ``"reject"`` (or ``{"action": "reject", "reason": "..."}``): call no agent; the answer is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentroute.types import Query, RoutingDecision


def approval_request(query: Query, decision: RoutingDecision, available: Sequence[str]) -> dict[str, Any]:
    """The interrupt payload: the question, the decision (agents, probabilities, rationale), the choices."""
    return {
        "question": query.text,
        "router": decision.router,
        "selected": list(decision.selected),
        "probs": dict(decision.probs),
        "rationale": decision.rationale,
        "available": list(available),
        "replies": ["accept", {"action": "edit", "agents": ["..."]}, "reject"],
    }


def review(decision: RoutingDecision, reply: Any, available: Sequence[str]) -> tuple[str, RoutingDecision]:
    """Apply a reviewer's reply; returns (action, decision to run). Raises ValueError on a malformed reply."""
    if isinstance(reply, (list, tuple)):
        reply = {"action": "edit", "agents": list(reply)}
    if isinstance(reply, str):
        reply = {"action": reply}
    if not isinstance(reply, dict) or reply.get("action") not in ("accept", "edit", "reject"):
        raise ValueError(
            f"approval reply must be 'accept', 'reject' or {{'action': 'edit', 'agents': [...]}}; got {reply!r}"
        )
    action = reply["action"]
    if action == "accept":  # the reviewer approved exactly these agents: no fallback to others
        return action, decision.model_copy(update={"fallback": 0})
    if action == "reject":
        reason = str(reply.get("reason") or "rejected by reviewer")
        return action, decision.model_copy(update={"selected": [], "rationale": reason, "early_stop": False})
    agents = reply.get("agents")
    if not isinstance(agents, list) or not agents or not all(isinstance(a, str) for a in agents):
        raise ValueError("an 'edit' reply needs 'agents': a non-empty list of agent names")
    unknown = [a for a in agents if a not in available]
    if unknown:
        raise ValueError(f"edited decision names unknown agents: {unknown} (available: {list(available)})")
    edited = list(dict.fromkeys(agents))
    rationale = f"edited by reviewer (router chose {', '.join(decision.selected) or 'none'})"
    return action, decision.model_copy(update={"selected": edited, "rationale": rationale, "fallback": 0})
