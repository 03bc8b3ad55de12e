"""GNN router (AgentRouter-style): query graphs -> HeteroData -> heterogeneous GNN -> agent probabilities.

The "gnn" and "gnn-top1" routers are registered lazily in ``routers/registry.py``: listing them imports nothing here.
"""

from agentroute.routers.gnn.checkpoint import FORMAT_VERSION, CheckpointError
from agentroute.routers.gnn.config import GNNConfig
from agentroute.routers.gnn.data import collate, graph_arrays, to_heterodata
from agentroute.routers.gnn.model import GNNScorer
from agentroute.routers.gnn.router import GNNRouter, resolve_device

__all__ = [
    "FORMAT_VERSION",
    "CheckpointError",
    "GNNConfig",
    "GNNRouter",
    "GNNScorer",
    "collate",
    "graph_arrays",
    "resolve_device",
    "to_heterodata",
]
