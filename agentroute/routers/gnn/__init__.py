"""GNN router (AgentRouter-style): query graphs -> HeteroData -> heterogeneous GNN -> agent probabilities.

The "gnn" and "gnn-top1" routers are registered lazily in ``routers/registry.py``: listing them imports nothing
here. The names below are imported when first used, so naming ``CheckpointError`` or ``GNNConfig`` loads
neither torch nor PyG.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "FORMAT_VERSION": "checkpoint",
    "CheckpointError": "checkpoint",
    "GNNConfig": "config",
    "GNNRouter": "router",
    "GNNScorer": "model",
    "collate": "data",
    "graph_arrays": "data",
    "resolve_device": "router",
    "to_heterodata": "data",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentroute.routers.gnn' has no attribute {name!r}")
    return getattr(importlib.import_module(f"agentroute.routers.gnn.{module}"), name)


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - what type checkers see: the real names and signatures
    from agentroute.routers.gnn.checkpoint import FORMAT_VERSION as FORMAT_VERSION
    from agentroute.routers.gnn.checkpoint import CheckpointError as CheckpointError
    from agentroute.routers.gnn.config import GNNConfig as GNNConfig
    from agentroute.routers.gnn.data import collate as collate
    from agentroute.routers.gnn.data import graph_arrays as graph_arrays
    from agentroute.routers.gnn.data import to_heterodata as to_heterodata
    from agentroute.routers.gnn.model import GNNScorer as GNNScorer
    from agentroute.routers.gnn.router import GNNRouter as GNNRouter
    from agentroute.routers.gnn.router import resolve_device as resolve_device
