"""The AgentRouter-style GNN: per-type projections, two heterogeneous layers, a query-agent scorer.

Layer choice (measured on MoRE, see the report): ``HeteroConv`` with ``TransformerConv`` on the relations
that carry attributes (SIMILAR, PERFORMED and their reverses) and ``SAGEConv`` elsewhere. HGT was the
paper's choice, but ``HGTConv`` ignores edge attributes, and the recorded score on a PERFORMED edge is the
strongest routing signal we have; ``TransformerConv`` adds the edge attributes to both keys and values,
so an agent's embedding says how it did on this question's neighbours. SAGE is the cheapest operator for the
plain relations. The last layer only computes what the scorer reads (query and agent nodes).

Inputs beyond the node features: the query text through the router's own TF-IDF lexicon (a low-rank bag
of words and bigrams), and, for agents seen in training, an id embedding (randomly dropped while training).
The scorer sees [h_q, h_a, h_q * h_a, evidence_a]: the GNN embeddings plus history/spec evidence that
means the same for every agent (``features.py``), so an unseen agent is scored from its spec and history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import HeteroConv, SAGEConv, TransformerConv
from torch_geometric.utils import scatter

from agentroute.routers.gnn.data import EDGE_DIMS, EDGE_TYPES, NODE_TYPES, EdgeType
from agentroute.routers.gnn.features import N_EVIDENCE


def _hetero_conv(convs: dict[EdgeType, nn.Module]) -> HeteroConv:
    """``HeteroConv(convs, aggr="sum")``. The last layer updates only query and agent nodes, on purpose, and
    HeteroConv warns when some node type is updated by no edge type: parameterless placeholders for the
    other edge types keep it quiet and are removed at once (silencing it with ``warnings.catch_warnings``
    would reset the filters of the application's other threads)."""
    placeholders = {et: nn.Identity() for et in EDGE_TYPES if et not in convs}
    layer = HeteroConv({**convs, **placeholders}, aggr="sum")
    for et in placeholders:
        layer.convs.pop(et)
    return layer


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
    """Maps a collated batch of query graphs to one routing logit per agent node."""

    def __init__(
        self,
        in_dims: dict[str, int],
        hidden: int = 64,
        layers: int = 2,
        heads: int = 2,
        dropout: float = 0.1,
        input_dropout: float = 0.2,
        lexicon_size: int = 0,
        lexicon_dim: int = 4,
        lexicon_dropout: float = 0.3,
        known_agents: int = 0,
        agent_id_dropout: float = 0.25,
        n_evidence: int = N_EVIDENCE,
    ) -> None:
        super().__init__()
        # the first ``n_evidence`` evidence columns (checkpoints from before a column was added read fewer)
        self.n_evidence = n_evidence
        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
        self.input_dropout = nn.Dropout(input_dropout)
        self.proj = nn.ModuleDict({t: nn.Linear(in_dims[t], hidden) for t in NODE_TYPES})
        # The query text read through the router's own TF-IDF lexicon (text/lexical.py), added to the query's
        # projection. A low-rank bag (lexicon_dim) keeps this wide input from memorising noisy outcomes.
        self.lexical = nn.EmbeddingBag(lexicon_size, lexicon_dim, mode="sum") if lexicon_size else None
        self.lexical_proj = nn.Linear(lexicon_dim, hidden, bias=False) if lexicon_size else None
        self.lexicon_dropout = lexicon_dropout
        if self.lexical is not None:
            nn.init.normal_(self.lexical.weight, std=0.1)
        # Agents seen in training also get a learned id embedding; row 0 stands for "unseen" (the spec and
        # history path alone). Ids are dropped to 0 at random while training so that path stays good.
        self.agent_id = nn.Embedding(known_agents + 1, hidden) if known_agents else None
        self.agent_id_dropout = agent_id_dropout
        if self.agent_id is not None:
            nn.init.zeros_(self.agent_id.weight)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(layers):
            last = i == layers - 1
            kept = [et for et in EDGE_TYPES if not last or et[2] in ("query", "agent")]
            self.convs.append(_hetero_conv({et: _conv(et, hidden, heads, dropout) for et in kept}))
            self.norms.append(nn.ModuleDict({t: nn.LayerNorm(hidden) for t in NODE_TYPES}))
        self.dropout = nn.Dropout(dropout)
        self.evidence_norm = nn.LayerNorm(n_evidence)
        self.trunk = nn.Sequential(
            nn.Linear(3 * hidden + 2 * n_evidence, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden // 2),
            nn.GELU(),
        )
        self.head = nn.Linear(hidden // 2, 1)

    def embed(self, data: HeteroData) -> dict[str, Tensor]:
        """Node embeddings after projection and message passing (residual, layer-normed)."""
        pre = {t: self.proj[t](self.input_dropout(data[t].x)) for t in NODE_TYPES}
        if self.lexical is not None:
            q = data["query"]
            weights = F.dropout(q.lex_weights, self.lexicon_dropout, self.training)
            lex = self.lexical(q.lex_ids, q.lex_offsets, per_sample_weights=weights)
            assert self.lexical_proj is not None  # built together with self.lexical
            pre["query"] = pre["query"] + self.lexical_proj(lex)
        if self.agent_id is not None:
            ids = data["agent"].agent_id
            if self.training and self.agent_id_dropout > 0:
                keep = torch.rand(ids.shape, device=ids.device) >= self.agent_id_dropout
                ids = ids * keep
            pre["agent"] = pre["agent"] + self.agent_id(ids)
        h = {t: F.gelu(x) for t, x in pre.items()}
        edge_index = {et: data[et].edge_index for et in EDGE_TYPES}
        edge_attr = {et: data[et].edge_attr for et in EDGE_DIMS}
        layer_norms = cast(Iterable[nn.ModuleDict], self.norms)  # per layer, one LayerNorm per node type
        for conv, norms in zip(self.convs, layer_norms, strict=True):
            out = conv(h, edge_index, edge_attr_dict=edge_attr)
            h = {t: norms[t](h[t] + self.dropout(F.gelu(out[t]))) if t in out else h[t] for t in NODE_TYPES}
        return h

    def forward(self, data: HeteroData) -> Tensor:
        """(num_agent_nodes,) routing logits; softmax them per graph with ``segment_log_softmax``."""
        h = self.embed(data)
        hq = h["query"][data["agent"].batch]
        ha = h["agent"]
        ev = data["agent"].evidence[:, : self.n_evidence]
        z = self.trunk(torch.cat([hq, ha, hq * ha, ev, self.evidence_norm(ev)], dim=-1))
        return self.head(z).squeeze(-1)


def segment_log_softmax(logits: Tensor, index: Tensor, num_segments: int, mask: Tensor | None = None) -> Tensor:
    """Log-softmax of ``logits`` within each segment (graph); entries where ``mask`` is False get -inf."""
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    top = scatter(logits, index, dim=0, dim_size=num_segments, reduce="max")
    top = torch.nan_to_num(top, neginf=0.0).detach()
    shifted = logits - top[index]
    total = scatter(shifted.exp(), index, dim=0, dim_size=num_segments, reduce="sum")
    return shifted - total.clamp_min(1e-30).log()[index]
