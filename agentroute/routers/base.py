"""The Router protocol, the router registry and the set-selection rules shared by every router."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from agentroute.types import QueryGraph, RoutingDecision, TrainExample


@runtime_checkable
class Router(Protocol):
    """Picks a set of agents for a query graph.

    ``fit`` receives training examples (graphs built from training history only, plus the agents'
    recorded scores); routers that need no training ignore it. ``route`` must only use the graph.
    """

    name: str

    def fit(self, examples: Sequence[TrainExample]) -> Router: ...

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision: ...

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]: ...


class BaseRouter:
    """Convenience base: ``route_many`` loops ``route``; ``fit`` does nothing."""

    name = "base"

    def fit(self, examples: Sequence[TrainExample]) -> BaseRouter:
        return self

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        raise NotImplementedError

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]:
        return [self.route(g, k) for g in graphs]


RouterFactory = Callable[..., Router]
_ROUTERS: dict[str, RouterFactory] = {}


def register_router(name: str) -> Callable[[RouterFactory], RouterFactory]:
    """Decorator: ``make_router(name, **options)`` will call the decorated factory/class."""

    def deco(factory: RouterFactory) -> RouterFactory:
        _ROUTERS[name] = factory
        return factory

    return deco


def router_names() -> list[str]:
    from agentroute import routers  # noqa: F401  (registers the built-in routers)

    return sorted(_ROUTERS)


def make_router(name: str, **options: Any) -> Router:
    """Build a registered router by name, e.g. ``make_router("knn", k=10)``."""
    from agentroute import routers  # noqa: F401

    factory = _ROUTERS.get(name)
    if factory is None:
        raise ValueError(f"unknown router {name!r}: expected one of {', '.join(sorted(_ROUTERS))}")
    return factory(**options)


def normalise(probs: Mapping[str, float]) -> dict[str, float]:
    """Scale non-negative weights to sum to 1 (uniform when they sum to 0)."""
    total = float(sum(max(0.0, p) for p in probs.values()))
    if total <= 0:
        n = len(probs)
        return {a: 1.0 / n for a in probs} if n else {}
    return {a: max(0.0, p) / total for a, p in probs.items()}


def select_top_k(probs: Mapping[str, float], k: int) -> list[str]:
    """The k most probable agents (ties broken by name, so selection is deterministic)."""
    ranked = sorted(probs, key=lambda a: (-probs[a], a))
    return ranked[: max(1, k)]


def select_by_mass(probs: Mapping[str, float], mass: float, cap: int | None = None) -> list[str]:
    """The smallest most-probable set whose probability mass reaches ``mass``, at most ``cap`` agents."""
    ranked = sorted(probs, key=lambda a: (-probs[a], a))
    chosen: list[str] = []
    total = 0.0
    for a in ranked:
        if cap is not None and len(chosen) >= cap:
            break
        chosen.append(a)
        total += probs[a]
        if total >= mass - 1e-12:
            break
    return chosen or ranked[:1]
