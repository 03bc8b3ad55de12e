"""GNN router (AgentRouter-style): query graphs -> HeteroData -> heterogeneous GNN -> agent probabilities.

The "gnn" and "gnn-top1" routers are registered lazily in ``routers/registry.py``: listing them imports nothing
here. The names below are imported when first used, so naming ``CheckpointError`` or ``GNNConfig`` loads
neither torch nor PyG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentroute.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "FORMAT_VERSION": "agentroute.routers.gnn.checkpoint",
    "CheckpointError": "agentroute.routers.gnn.checkpoint",
    "GNNConfig": "agentroute.routers.gnn.config",
    "GNNRouter": "agentroute.routers.gnn.router",
    "GNNScorer": "agentroute.routers.gnn.model",
    "collate": "agentroute.routers.gnn.data",
    "graph_arrays": "agentroute.routers.gnn.data",
    "resolve_device": "agentroute.routers.gnn.router",
    "to_heterodata": "agentroute.routers.gnn.data",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


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
