"""GNN router (AgentRouter-style): query graphs -> HeteroData -> heterogeneous GNN -> agent probabilities.

The "gnn" and "gnn-top1" routers are registered lazily in ``routers/registry.py``: listing them imports nothing
here. The names below are imported when first used, so naming ``CheckpointError`` or ``GNNConfig`` loads
neither torch nor PyG.
"""

from __future__ import annotations

import importlib
from typing import Any

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
