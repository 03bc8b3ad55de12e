"""QueryGraph -> PyG ``HeteroData``, and a fast collation of many graphs into one batch.

Why our own collation: building one ``HeteroData`` per question and calling ``Batch.from_data_list`` costs
milliseconds per graph in Python. Here each graph becomes a few numpy arrays once (``graph_arrays``), and a
batch is a handful of ``np.concatenate`` calls plus index offsets (``collate``); the result is the same
graph ``Batch.from_data_list`` would build (the tests check it).

Node types: ``query`` (1 per graph), ``entity``, ``agent``, ``past`` (similar past questions).
Relations (reverse ones added at collation, so every node type receives messages):
MENTIONS query->entity, RELATED entity<->entity, COVERS agent->entity, SIMILAR query->past (attr:
similarity), PERFORMED past->agent (attrs: score, score minus the past question's mean, relative cost).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch_geometric.data import HeteroData

from agentroute.routers.gnn.features import N_EVIDENCE, PastTables, agent_evidence, past_tables
from agentroute.routers.text.lexical import Lexicon
from agentroute.routers.text.surface import N_SURFACE, surface_features
from agentroute.types import QueryGraph

EdgeType = tuple[str, str, str]

NODE_TYPES: tuple[str, ...] = ("query", "entity", "agent", "past")
MENTIONS: EdgeType = ("query", "mentions", "entity")
RELATED: EdgeType = ("entity", "related", "entity")
COVERS: EdgeType = ("agent", "covers", "entity")
SIMILAR: EdgeType = ("query", "similar", "past")
PERFORMED: EdgeType = ("past", "performed", "agent")
#: Relations stored per graph; ``related`` already holds both directions.
FORWARD: tuple[EdgeType, ...] = (MENTIONS, RELATED, COVERS, SIMILAR, PERFORMED)
REVERSE: dict[EdgeType, EdgeType] = {
    MENTIONS: ("entity", "rev_mentions", "query"),
    COVERS: ("entity", "rev_covers", "agent"),
    SIMILAR: ("past", "rev_similar", "query"),
    PERFORMED: ("agent", "rev_performed", "past"),
}
EDGE_TYPES: tuple[EdgeType, ...] = FORWARD + tuple(REVERSE.values())
#: Edge attribute width of the relations that carry attributes.
EDGE_DIMS: dict[EdgeType, int] = {SIMILAR: 1, REVERSE[SIMILAR]: 1, PERFORMED: 3, REVERSE[PERFORMED]: 3}

N_KIND_BUCKETS = 8
#: Extra feature columns appended to each node type's text embedding.
EXTRA_DIMS: dict[str, int] = {"query": N_SURFACE + 3, "entity": 1 + N_KIND_BUCKETS, "agent": 1, "past": N_SURFACE + 3}


def feature_dims(embed_dim: int) -> dict[str, int]:
    """Input width of every node type for an embedding dimension."""
    return {t: embed_dim + EXTRA_DIMS[t] for t in NODE_TYPES}


@dataclass
class GraphArrays:
    """One query graph as plain arrays (features, forward edges, agent evidence), ready to collate."""

    x: dict[str, np.ndarray]
    edges: dict[EdgeType, np.ndarray]  # (2, m) int64, local node indexes
    edge_attr: dict[EdgeType, np.ndarray]  # (m, d) float32
    evidence: np.ndarray  # (A, N_EVIDENCE)
    agent_names: list[str]
    lex_ids: np.ndarray  # query text's lexicon columns (empty without a lexicon)
    lex_weights: np.ndarray  # their TF-IDF weights
    agent_ids: np.ndarray  # (A,) 1 + index among the agents the router was trained on; 0 = unseen agent

    @property
    def embed_dim(self) -> int:
        return self.x["query"].shape[1] - EXTRA_DIMS["query"]


def _rows(vecs: np.ndarray, n: int, dim: int) -> np.ndarray:
    """``vecs`` as an (n, dim) float32 matrix (accepts the (0,) arrays empty lists often become)."""
    arr = np.asarray(vecs, dtype=np.float32)
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    return arr.reshape(n, dim)


def _edge_array(pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    if not pairs:
        return np.zeros((2, 0), dtype=np.int64)
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T.copy()


@lru_cache(maxsize=4096)
def _kind_bucket(kind: str) -> int:
    return zlib.crc32(kind.encode("utf-8")) % N_KIND_BUCKETS


def graph_arrays(
    graph: QueryGraph, lexicon: Lexicon | None = None, known_agents: Mapping[str, int] | None = None
) -> GraphArrays:
    """Features, edges and evidence of one graph (no torch, so it is cheap to cache and to collate).

    ``known_agents`` maps the names of agents seen in training to 1-based ids (others get 0).
    """
    return graph_arrays_many([graph], lexicon, known_agents)[0]


def graph_arrays_many(
    graphs: Sequence[QueryGraph],
    lexicon: Lexicon | None = None,
    known_agents: Mapping[str, int] | None = None,
    task_scores: Sequence[np.ndarray] | None = None,
) -> list[GraphArrays]:
    """``graph_arrays`` for many graphs: node features, history tables and agent evidence are computed as
    batch-wide arrays (each graph gets views into them), which is what keeps batched routing fast.
    ``task_scores``: the task prior's expected score of each graph's agents (``task_prior.py``), if any."""
    if not graphs:
        return []
    widths = {int(np.asarray(g.query_vec).size) for g in graphs}
    if len(widths) != 1:
        raise ValueError(
            f"graphs with different embedding widths in one batch ({sorted(widths)}); "
            "were they built with different embedders?"
        )
    tables = past_tables(graphs)
    evidence = agent_evidence(graphs, tables, task_scores)
    features = _node_features(graphs, tables)
    known = known_agents or {}
    return [
        _graph_arrays(g, tables, i, {t: features[t][i] for t in NODE_TYPES}, evidence[i], lexicon, known)
        for i, g in enumerate(graphs)
    ]


def _node_features(graphs: Sequence[QueryGraph], tables: PastTables) -> dict[str, list[np.ndarray]]:
    """Per node type, one feature matrix per graph: the text embedding, then ``EXTRA_DIMS`` columns."""
    dim = int(np.asarray(graphs[0].query_vec).size)
    n = {
        "query": [1] * len(graphs),
        "entity": [len(g.entities) for g in graphs],
        "agent": [len(g.agents) for g in graphs],
        "past": [len(g.similar) for g in graphs],
    }
    x = {t: np.zeros((sum(n[t]), dim + EXTRA_DIMS[t]), dtype=np.float32) for t in NODE_TYPES}

    query = x["query"]
    query[:, :dim] = np.stack([np.asarray(g.query_vec, dtype=np.float32).reshape(-1) for g in graphs])
    query[:, dim : dim + N_SURFACE] = np.stack([surface_features(g.query.text) for g in graphs])
    rows = tables.rows
    has_past = rows.any(axis=1)
    if has_past.any():
        top = np.where(rows, tables.sims, -np.inf).max(axis=1)
        mean = (tables.sims * rows).sum(axis=1) / np.maximum(rows.sum(axis=1), 1)
        query[has_past, dim + N_SURFACE :] = np.stack([top, mean, np.ones_like(mean)], axis=1)[has_past]

    past = x["past"]
    if len(past):
        past[:, :dim] = np.concatenate([_rows(g.past_vecs, k, dim) for g, k in zip(graphs, n["past"], strict=True)])
        past[:, dim : dim + N_SURFACE] = np.stack([surface_features(p.text) for g in graphs for p in g.similar])
        past[:, dim + N_SURFACE] = tables.sims[rows]  # padded tables flatten in (graph, past question) order
        past[:, dim + N_SURFACE + 1] = tables.row_mean[rows]
        past[:, dim + N_SURFACE + 2] = tables.mask[rows].any(axis=1)

    entity = x["entity"]
    if len(entity):
        entity[:, :dim] = np.concatenate(
            [_rows(g.entity_vecs, k, dim) for g, k in zip(graphs, n["entity"], strict=True)]
        )
        sizes = zip(graphs, n["entity"], strict=True)
        entity[:, dim] = np.concatenate([np.arange(k) < g.n_mentioned for g, k in sizes])
        buckets = [_kind_bucket(kind) for g, k in zip(graphs, n["entity"], strict=True) for kind in g.entity_kinds[:k]]
        entity[np.arange(len(buckets)), dim + 1 + np.asarray(buckets, dtype=np.int64)] = 1.0

    agent = x["agent"]
    if len(agent):
        agent[:, :dim] = np.concatenate([_rows(g.agent_vecs, k, dim) for g, k in zip(graphs, n["agent"], strict=True)])
        costs = [np.array([a.cost_per_call for a in g.agents], dtype=np.float32) for g in graphs]
        agent[:, dim] = np.concatenate([c / c.max() if len(c) and c.max() > 0 else c * 0 for c in costs])

    return {t: np.split(x[t], np.cumsum(n[t])[:-1]) for t in NODE_TYPES}


def _graph_arrays(
    graph: QueryGraph,
    tables: PastTables,
    i: int,
    x: dict[str, np.ndarray],
    evidence: np.ndarray,
    lexicon: Lexicon | None,
    known_agents: Mapping[str, int],
) -> GraphArrays:
    n_agents, n_past = len(graph.agents), len(graph.similar)
    sims = tables.sims[i, :n_past]
    scores = tables.scores[i, :n_past, :n_agents]
    mask = tables.mask[i, :n_past, :n_agents]
    row_mean = tables.row_mean[i, :n_past]
    related = [(a, b) for a, b, _ in graph.related] + [(b, a) for a, b, _ in graph.related]
    pj, pa = np.nonzero(mask)
    performed = np.stack([pj, pa]).astype(np.int64)
    costs = tables.costs[i, :n_past, :n_agents]
    perf_attr = np.stack([scores[pj, pa], scores[pj, pa] - row_mean[pj], costs[pj, pa]], axis=1)
    edges = {
        MENTIONS: np.stack([np.zeros(graph.n_mentioned, np.int64), np.arange(graph.n_mentioned)]),
        RELATED: _edge_array(related),
        COVERS: _edge_array(graph.covers),
        SIMILAR: np.stack([np.zeros(n_past, np.int64), np.arange(n_past)]),
        PERFORMED: performed,
    }
    if lexicon is not None and len(lexicon):
        lex_ids, lex_weights = lexicon.encode(graph.query.text)
    else:
        lex_ids, lex_weights = np.zeros(0, np.int64), np.zeros(0, np.float32)
    edge_attr = {SIMILAR: sims.reshape(-1, 1).copy(), PERFORMED: perf_attr.astype(np.float32).reshape(-1, 3)}
    return GraphArrays(
        x=x,
        edges=edges,
        edge_attr=edge_attr,
        evidence=np.ascontiguousarray(evidence),
        agent_names=graph.agent_names,
        lex_ids=lex_ids,
        lex_weights=lex_weights,
        agent_ids=np.array([known_agents.get(a, 0) for a in graph.agent_names], dtype=np.int64),
    )


@dataclass
class Packed:
    """Many graphs as one disjoint union of plain tensors (what ``collate`` and ``FrozenEnsemble`` read)."""

    x: dict[str, torch.Tensor]
    batch: dict[str, torch.Tensor]  # graph of each node, per node type
    ptr: dict[str, torch.Tensor]  # node offsets per graph, per node type
    edge_index: dict[EdgeType, torch.Tensor]  # every relation, reverse ones included
    edge_attr: dict[EdgeType, torch.Tensor]  # relations in EDGE_DIMS (a reverse shares its forward's)
    evidence: torch.Tensor
    agent_id: torch.Tensor
    lex_ids: torch.Tensor
    lex_weights: torch.Tensor
    lex_offsets: torch.Tensor
    num_graphs: int

    def to(self, device: torch.device) -> Packed:
        """The same tensors on ``device`` (this object when they are already there)."""
        if self.evidence.device == device:
            return self
        move = {k: v.to(device) for k, v in self.x.items()}
        return Packed(
            x=move,
            batch={k: v.to(device) for k, v in self.batch.items()},
            ptr={k: v.to(device) for k, v in self.ptr.items()},
            edge_index={k: v.to(device) for k, v in self.edge_index.items()},
            edge_attr={k: v.to(device) for k, v in self.edge_attr.items()},
            evidence=self.evidence.to(device),
            agent_id=self.agent_id.to(device),
            lex_ids=self.lex_ids.to(device),
            lex_weights=self.lex_weights.to(device),
            lex_offsets=self.lex_offsets.to(device),
            num_graphs=self.num_graphs,
        )


def pack(items: Sequence[GraphArrays]) -> Packed:
    """Concatenate graphs into one disjoint union: a few ``np.concatenate`` calls plus index offsets."""
    if not items:
        raise ValueError("collate needs at least one graph")
    dims = {t: items[0].x[t].shape[1] for t in NODE_TYPES}
    for it in items:
        for t in NODE_TYPES:
            if it.x[t].shape[1] != dims[t]:
                raise ValueError(
                    f"graphs with different feature widths in one batch ({t}: {it.x[t].shape[1]} vs {dims[t]}); "
                    "were they built with different embedders?"
                )
    n = len(items)
    ptr: dict[str, np.ndarray] = {}
    x, batch = {}, {}
    for t in NODE_TYPES:
        counts = np.fromiter((it.x[t].shape[0] for it in items), dtype=np.int64, count=n)
        ptr[t] = np.concatenate([[0], np.cumsum(counts)])
        x[t] = torch.from_numpy(np.concatenate([it.x[t] for it in items]))
        batch[t] = torch.from_numpy(np.repeat(np.arange(n, dtype=np.int64), counts))
    edge_index: dict[EdgeType, torch.Tensor] = {}
    edge_attr: dict[EdgeType, torch.Tensor] = {}
    for et in FORWARD:
        src, _, dst = et
        counts = np.fromiter((it.edges[et].shape[1] for it in items), dtype=np.int64, count=n)
        index = np.concatenate([it.edges[et] for it in items], axis=1)
        index[0] += np.repeat(ptr[src][:-1], counts)
        index[1] += np.repeat(ptr[dst][:-1], counts)
        edge_index[et] = torch.from_numpy(index)
        if et in EDGE_DIMS:
            edge_attr[et] = torch.from_numpy(np.concatenate([it.edge_attr[et] for it in items]))
        if et in REVERSE:
            rev = REVERSE[et]
            edge_index[rev] = edge_index[et].flip(0)
            if et in EDGE_DIMS:
                edge_attr[rev] = edge_attr[et]
    lex_counts = np.fromiter((len(it.lex_ids) for it in items), dtype=np.int64, count=n)
    return Packed(
        x=x,
        batch=batch,
        ptr={t: torch.from_numpy(p) for t, p in ptr.items()},
        edge_index=edge_index,
        edge_attr=edge_attr,
        evidence=torch.from_numpy(np.concatenate([it.evidence for it in items]).reshape(-1, N_EVIDENCE)),
        agent_id=torch.from_numpy(np.concatenate([it.agent_ids for it in items])),
        lex_ids=torch.from_numpy(np.concatenate([it.lex_ids for it in items])),
        lex_weights=torch.from_numpy(np.concatenate([it.lex_weights for it in items])),
        lex_offsets=torch.from_numpy(np.concatenate([[0], np.cumsum(lex_counts)[:-1]]).astype(np.int64)),
        num_graphs=n,
    )


def collate(items: Sequence[GraphArrays]) -> HeteroData:
    """Concatenate graphs into one disjoint-union ``HeteroData`` batch.

    Besides ``x``/``edge_index``/``edge_attr`` it carries ``batch`` and ``ptr`` per node type (as
    ``Batch.from_data_list`` would), ``data["agent"].evidence``, the query texts' lexicon entries
    (``lex_ids``/``lex_weights``/``lex_offsets``, in ``EmbeddingBag`` layout) and ``data.num_graphs``.
    """
    packed = pack(items)
    data = HeteroData()
    for t in NODE_TYPES:
        data[t].x = packed.x[t]
        data[t].batch = packed.batch[t]
        data[t].ptr = packed.ptr[t]
    for et, index in packed.edge_index.items():
        data[et].edge_index = index
        if et in packed.edge_attr:
            data[et].edge_attr = packed.edge_attr[et]
    data["agent"].evidence = packed.evidence
    data["agent"].agent_id = packed.agent_id
    data["query"].lex_ids = packed.lex_ids
    data["query"].lex_weights = packed.lex_weights
    data["query"].lex_offsets = packed.lex_offsets
    data.num_graphs = packed.num_graphs
    return data


def to_heterodata(graph: QueryGraph, lexicon: Lexicon | None = None) -> HeteroData:
    """One query graph as a ``HeteroData`` (a batch of one)."""
    return collate([graph_arrays(graph, lexicon)])
