"""``FrozenEnsemble``: the trained ensemble's forward pass, vectorised over members, for routing.

Why: the PyG model (``model.py``) is the reference and what we train, but on one small query graph its
cost is Python overhead, not arithmetic: ``HeteroConv`` calls a separate operator per relation, and an
ensemble repeats all of it per member (about 8 ms per member per question on one CPU core). Here the
members' weights are stacked along a leading ensemble axis and the same function (projections, lexical
bag, agent ids, ``TransformerConv`` and mean-``SAGEConv`` per relation, summed per node type, residual
GELU + LayerNorm, scorer) is computed once for all members with a few batched tensor operations.
It holds no trainable state; ``tests/routers/test_gnn.py`` checks it against the PyG members.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import HeteroConv, SAGEConv, TransformerConv

from agentroute.routers.gnn.data import EDGE_DIMS, EDGE_TYPES, NODE_TYPES, EdgeType, Packed
from agentroute.routers.gnn.model import GNNScorer

Linear = tuple[Tensor, Tensor | None]  # (E, in, out) weight, (E, 1, out) bias


def _stack_linear(layers: Sequence[nn.Module]) -> Linear:
    weight = torch.stack([cast(Tensor, layer.weight).detach().t() for layer in layers])
    if layers[0].bias is None:
        return weight, None
    return weight, torch.stack([cast(Tensor, layer.bias).detach() for layer in layers])[:, None, :]


def _apply(x: Tensor, lin: Linear) -> Tensor:
    """``x`` (N, in) shared by every member, or (E, N, in) -> (E, N, out)."""
    weight, bias = lin
    out = torch.matmul(x, weight)
    return out if bias is None else out + bias


def _layer_norm(x: Tensor, norm: tuple[Tensor, Tensor, float]) -> Tensor:
    weight, bias, eps = norm
    return F.layer_norm(x, x.shape[-1:], eps=eps) * weight + bias


def _stack_norm(norms: Sequence[nn.LayerNorm]) -> tuple[Tensor, Tensor, float]:
    weight = torch.stack([n.weight.detach() for n in norms])[:, None, :]
    bias = torch.stack([n.bias.detach() for n in norms])[:, None, :]
    return weight, bias, float(norms[0].eps)


class LayoutError(ValueError):
    """A model is not laid out the way ``FrozenEnsemble`` re-implements it (so its routing would differ)."""


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise LayoutError(f"FrozenEnsemble cannot reproduce this model: {what}")


def check_layout(members: Sequence[GNNScorer]) -> None:
    """Refuse, at build time, any member whose layout differs from what ``logits`` computes: the operator
    per relation and its settings, the sum over relations, the trunk and head, and identical shapes across
    members. Why: a change to ``model.py`` not mirrored here would otherwise route silently wrong."""
    _require(bool(members), "no members")
    shapes = {k: tuple(v.shape) for k, v in members[0].state_dict().items()}
    for m in members:
        _require({k: tuple(v.shape) for k, v in m.state_dict().items()} == shapes, "members differ in shape")
        for conv in m.convs:
            _require(isinstance(conv, HeteroConv) and conv.aggr == "sum", "relations must be summed (HeteroConv)")
            for et, op in cast(HeteroConv, conv).convs.items():
                if et in EDGE_DIMS:
                    _require(
                        isinstance(op, TransformerConv) and op.concat and not op.beta and not op.root_weight,
                        f"{et} must be a TransformerConv (concat, no beta, no root weight)",
                    )
                else:
                    _require(
                        isinstance(op, SAGEConv)
                        and op.aggr == "mean"
                        and not (op.root_weight or op.normalize or op.project),
                        f"{et} must be a mean SAGEConv (no root weight, normalize or project)",
                    )
        kinds = [type(layer) for layer in m.trunk]
        _require(kinds == [nn.Linear, nn.GELU, nn.Dropout, nn.Linear, nn.GELU], f"unexpected trunk {kinds}")
        _require(isinstance(m.head, nn.Linear) and m.head.out_features == 1, "the head must be Linear(…, 1)")


class FrozenEnsemble:
    """Stacked copy of trained ``GNNScorer`` members (same architecture); ``logits`` is (E, agent nodes)."""

    def __init__(self, members: Sequence[GNNScorer]) -> None:
        if not members:
            raise ValueError("FrozenEnsemble needs at least one trained member")
        check_layout(members)
        first = members[0]
        self.size = len(members)
        self.proj = {t: _stack_linear([m.proj[t] for m in members]) for t in NODE_TYPES}
        self.lexical: Tensor | None = None
        if first.lexical is not None:
            self.lexical = torch.stack([m.lexical.weight.detach() for m in members])  # type: ignore[union-attr]
            self.lexical_proj = _stack_linear([m.lexical_proj for m in members])  # type: ignore[misc]
        self.agent_id: Tensor | None = None
        if first.agent_id is not None:
            self.agent_id = torch.stack([m.agent_id.weight.detach() for m in members])  # type: ignore[union-attr]
        self.layers: list[dict[EdgeType, dict[str, object]]] = []
        self.norms: list[dict[str, tuple[Tensor, Tensor, float]]] = []
        for i, conv in enumerate(first.convs):
            relations: dict[EdgeType, dict[str, object]] = {}
            for et in EDGE_TYPES:
                if et not in cast(HeteroConv, conv).convs:
                    continue
                ops = [cast(HeteroConv, m.convs[i]).convs[et] for m in members]
                if et in EDGE_DIMS:
                    relations[et] = {
                        "query": _stack_linear([op.lin_query for op in ops]),
                        "key": _stack_linear([op.lin_key for op in ops]),
                        "value": _stack_linear([op.lin_value for op in ops]),
                        "edge": _stack_linear([op.lin_edge for op in ops]),
                        "heads": ops[0].heads,
                        "channels": ops[0].out_channels,
                    }
                else:
                    relations[et] = {"lin": _stack_linear([op.lin_l for op in ops])}
            self.layers.append(relations)
            norms = [cast(nn.ModuleDict, m.norms[i]) for m in members]
            self.norms.append({t: _stack_norm([cast(nn.LayerNorm, n[t]) for n in norms]) for t in NODE_TYPES})
        self.evidence_norm = _stack_norm([m.evidence_norm for m in members])
        self.n_evidence = members[0].n_evidence
        self.trunk = [_stack_linear([m.trunk[j] for m in members]) for j in (0, 3)]
        self.head = _stack_linear([m.head for m in members])

    def to(self, device: torch.device) -> FrozenEnsemble:
        """Move every stacked tensor to ``device`` (in place)."""

        def move(value: object) -> object:
            if isinstance(value, Tensor):
                return value.to(device)
            if isinstance(value, tuple):
                return tuple(move(v) for v in value)
            if isinstance(value, dict):
                return {k: move(v) for k, v in value.items()}
            if isinstance(value, list):
                return [move(v) for v in value]
            return value

        for name, value in vars(self).items():
            setattr(self, name, move(value))
        return self

    @torch.inference_mode()
    def logits(self, data: Packed) -> Tensor:
        h = self._inputs(data)
        for relations, norms in zip(self.layers, self.norms, strict=True):
            out: dict[str, Tensor] = {}
            for et, params in relations.items():
                src, _, dst = et
                msg = self._relation(h[src], h[dst], data, et, params)
                out[dst] = out[dst] + msg if dst in out else msg
            h = {t: _layer_norm(h[t] + F.gelu(out[t]), norms[t]) if t in out else h[t] for t in NODE_TYPES}
        agent_batch = data.batch["agent"]
        hq, ha = h["query"][:, agent_batch], h["agent"]
        ev = data.evidence[:, : self.n_evidence].expand(self.size, -1, -1)
        z = torch.cat([hq, ha, hq * ha, ev, _layer_norm(ev, self.evidence_norm)], dim=-1)
        z = F.gelu(_apply(F.gelu(_apply(z, self.trunk[0])), self.trunk[1]))
        return _apply(z, self.head).squeeze(-1)

    def _inputs(self, data: Packed) -> dict[str, Tensor]:
        pre = {t: _apply(data.x[t], self.proj[t]) for t in NODE_TYPES}
        if self.lexical is not None:
            n = data.num_graphs
            bag = torch.repeat_interleave(
                torch.arange(n, device=data.lex_ids.device),
                torch.diff(data.lex_offsets, append=data.lex_offsets.new_tensor([data.lex_ids.numel()])),
            )
            rows = self.lexical[:, data.lex_ids] * data.lex_weights[None, :, None]
            lex = rows.new_zeros(self.size, n, rows.shape[-1]).index_add_(1, bag, rows)
            pre["query"] = pre["query"] + _apply(lex, self.lexical_proj)
        if self.agent_id is not None:
            pre["agent"] = pre["agent"] + self.agent_id[:, data.agent_id]
        return {t: F.gelu(x) for t, x in pre.items()}

    def _relation(self, h_src: Tensor, h_dst: Tensor, data: Packed, et: EdgeType, params: dict) -> Tensor:
        src_idx, dst_idx = data.edge_index[et]
        n_dst = h_dst.shape[1]
        if et not in EDGE_DIMS:  # SAGEConv, mean aggregation, no root weight: lin_l(mean of neighbours)
            total = h_src.new_zeros(self.size, n_dst, h_src.shape[-1]).index_add_(1, dst_idx, h_src[:, src_idx])
            count = torch.bincount(dst_idx, minlength=n_dst).clamp_min(1).to(h_src.dtype)
            return _apply(total / count[None, :, None], params["lin"])
        heads, channels = params["heads"], params["channels"]
        m = src_idx.numel()
        edge = _apply(data.edge_attr[et], params["edge"]).view(self.size, m, heads, channels)
        query = _apply(h_dst, params["query"]).view(self.size, n_dst, heads, channels)[:, dst_idx]
        key = _apply(h_src, params["key"]).view(self.size, -1, heads, channels)[:, src_idx] + edge
        value = _apply(h_src, params["value"]).view(self.size, -1, heads, channels)[:, src_idx] + edge
        score = (query * key).sum(-1) / math.sqrt(channels)  # (E, m, heads)
        index = dst_idx.view(1, m, 1).expand_as(score)
        top = score.new_full((self.size, n_dst, heads), float("-inf")).scatter_reduce_(1, index, score, "amax")
        weight = (score - top.gather(1, index)).exp()
        total = score.new_zeros(self.size, n_dst, heads).scatter_add_(1, index, weight)
        alpha = weight / (total.gather(1, index) + 1e-16)
        out = value.new_zeros(self.size, n_dst, heads, channels).index_add_(1, dst_idx, value * alpha[..., None])
        return out.view(self.size, n_dst, heads * channels)
