"""Routers: the protocol, the registry, and the built-in implementations (registered on import)."""

from agentroute.routers import baselines, gnn  # noqa: F401  (register built-in routers)
from agentroute.routers.base import (
    BaseRouter,
    Router,
    make_router,
    register_router,
    router_names,
    select_by_mass,
    select_top_k,
)

__all__ = [
    "BaseRouter",
    "Router",
    "make_router",
    "register_router",
    "router_names",
    "select_by_mass",
    "select_top_k",
]
