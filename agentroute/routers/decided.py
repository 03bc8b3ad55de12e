"""Decisions made for a whole batch before its questions run.

Why: a router that paces a budget (``GuardedRouter`` after ``calibrate --target-cost``, ``routers/pacing.py``)
must see the batch to spend the target on it, while the router graph routes one question at a time.
``AgentRoute.ask_many`` therefore routes the batch first, then runs each question's graph with a
``DecidedRouter`` that hands out the decision made for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agentroute.routers.base import BaseRouter, Router
from agentroute.types import Query, QueryGraph, RoutingDecision


def decision_key(query: Query) -> tuple[str, str]:
    """Questions are matched by id and text (two questions may share an id, never both)."""
    return query.id, query.text


class DecidedRouter(BaseRouter):
    """Returns the decision made beforehand for a question; routes any other question with ``router``."""

    nonblocking = True  # a dictionary lookup
    learns_from_history = False  # the batch was routed with cold start already: nothing to blend again

    def __init__(self, router: Router, decisions: Mapping[tuple[str, str], RoutingDecision]) -> None:
        self.router = router
        self.name = router.name
        self.decisions = dict(decisions)

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return self.route_many([graph], k)[0]

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]:
        missing = [g for g in graphs if decision_key(g.query) not in self.decisions]
        routed = iter(self.router.route_many(missing, k) if missing else [])
        return [self.decisions.get(decision_key(g.query)) or next(routed) for g in graphs]
