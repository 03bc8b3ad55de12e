"""The AgentRouter-style GNN: per-type projections, two heterogeneous layers, a query-agent scorer.

Layer choice (measured on MoRE, see the report): ``HeteroConv`` with ``TransformerConv`` on the relations
that carry attributes (SIMILAR, PERFORMED and their reverses) and ``SAGEConv`` elsewhere. HGT was the
paper's choice, but ``HGTConv`` ignores edge attributes, and the recorded score on a PERFORMED edge is the
strongest routing signal we have; ``TransformerConv`` adds the edge attributes to both keys and values,
so an agent's embedding says how it did on this question's neighbours. SAGE is the cheapest operator for the
plain relations. The last layer only computes what the scorer reads (query and agent nodes).

The scorer sees [h_q, h_a, h_q * h_a, evidence_a]: the GNN embeddings plus history/spec evidence that
means the same for every agent (``features.py``), so unseen agents are scored from their spec and history.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import HeteroConv, SAGEConv, TransformerConv
from torch_geometric.utils import scatter

from agentroute.routers.gnn.data import EDGE_DIMS, EDGE_TYPES, NODE_TYPES, EdgeType
from agentroute.routers.gnn.features import N_EVIDENCE


def _conv(edge_type: EdgeType, hidden: int, heads: int, dropout: float) -> nn.Module:
    if edge_type in EDGE_DIMS:
        return TransformerConv(
            (hidden, hidden),
            hidden // heads,
            heads=heads,
            edge_dim=EDGE_DIMS[edge_type],
            dropout=dropout,
            root_weight=False,
        )
    return SAGEConv((hidden, hidden), hidden, root_weight=False)


class GNNScorer(nn.Module):
    """Maps a collated batch of query graphs to one routing logit (and one score logit) per agent node."""

    def __init__(
        self,
        in_dims: dict[str, int],
        hidden: int = 128,
        layers: int = 2,
        heads: int = 2,
        dropout: float = 0.1,
        input_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
        self.input_dropout = nn.Dropout(input_dropout)
        self.proj = nn.ModuleDict({t: nn.Linear(in_dims[t], hidden) for t in NODE_TYPES})
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(layers):
            last = i == layers - 1
            kept = [et for et in EDGE_TYPES if not last or et[2] in ("query", "agent")]
            with warnings.catch_warnings():  # the last layer leaves entity/past untouched on purpose
                warnings.filterwarnings("ignore", message="There exist node types")
                self.convs.append(HeteroConv({et: _conv(et, hidden, heads, dropout) for et in kept}, aggr="sum"))
            self.norms.append(nn.ModuleDict({t: nn.LayerNorm(hidden) for t in NODE_TYPES}))
        self.dropout = nn.Dropout(dropout)
        self.evidence_norm = nn.LayerNorm(N_EVIDENCE)
        self.trunk = nn.Sequential(
            nn.Linear(3 * hidden + 2 * N_EVIDENCE, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden // 2),
            nn.GELU(),
        )
        self.route_head = nn.Linear(hidden // 2, 1)
        self.score_head = nn.Linear(hidden // 2, 1)  # auxiliary: the agent's own score (see train.py)

    def embed(self, data: HeteroData) -> dict[str, Tensor]:
        """Node embeddings after projection and message passing (residual, layer-normed)."""
        h = {t: F.gelu(self.proj[t](self.input_dropout(data[t].x))) for t in NODE_TYPES}
        edge_index = {et: data[et].edge_index for et in EDGE_TYPES}
        edge_attr = {et: data[et].edge_attr for et in EDGE_DIMS}
        for conv, norms in zip(self.convs, self.norms, strict=True):
            out = conv(h, edge_index, edge_attr_dict=edge_attr)
            h = {t: norms[t](h[t] + self.dropout(F.gelu(out[t]))) if t in out else h[t] for t in NODE_TYPES}
        return h

    def outputs(self, data: HeteroData) -> tuple[Tensor, Tensor]:
        """(routing logits, score logits), one per agent node."""
        h = self.embed(data)
        hq = h["query"][data["agent"].batch]
        ha = h["agent"]
        ev = data["agent"].evidence
        z = self.trunk(torch.cat([hq, ha, hq * ha, ev, self.evidence_norm(ev)], dim=-1))
        return self.route_head(z).squeeze(-1), self.score_head(z).squeeze(-1)

    def forward(self, data: HeteroData) -> Tensor:
        """(num_agent_nodes,) routing logits; softmax them per graph with ``segment_log_softmax``."""
        return self.outputs(data)[0]


def segment_log_softmax(
    logits: Tensor, index: Tensor, num_segments: int, mask: Tensor | None = None
) -> Tensor:
    """Log-softmax of ``logits`` within each segment (graph); entries where ``mask`` is False get -inf."""
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    top = scatter(logits, index, dim=0, dim_size=num_segments, reduce="max")
    top = torch.nan_to_num(top, neginf=0.0).detach()
    shifted = logits - top[index]
    total = scatter(shifted.exp(), index, dim=0, dim_size=num_segments, reduce="sum")
    return shifted - total.clamp_min(1e-30).log()[index]
