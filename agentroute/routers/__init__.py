"""Routers: the protocol, the registry and the built-in implementations.

Importing this package imports no implementation (and so no torch): the registry maps each name to a
``"module:factory"`` that is imported when the router is first built.
"""

from agentroute.routers.base import BaseRouter, Router, SharesTraining, TracksSpend, select_by_mass, select_top_k
from agentroute.routers.registry import (
    DEFAULT_ROUTERS,
    RouterInfo,
    load_router,
    make_router,
    register_router,
    router_info,
    router_names,
)

__all__ = [
    "DEFAULT_ROUTERS",
    "BaseRouter",
    "Router",
    "RouterInfo",
    "SharesTraining",
    "TracksSpend",
    "load_router",
    "make_router",
    "register_router",
    "router_info",
    "router_names",
    "select_by_mass",
    "select_top_k",
]
