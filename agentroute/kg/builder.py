"""``QueryGraphBuilder``: turns a question into the ``QueryGraph`` a router sees.

The graph holds the query vector, the query's entities and their 1-hop neighbours in the store, every
candidate agent (featurised from its spec, so unseen agents work), agent-entity ``covers`` edges and the
k most similar past questions with how each agent did on them. Past questions come from an in-memory
index (one matrix product per batch); a question never sees its own record, and gold answers are
never read.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentroute.kg.embed import Embedder, HashingEmbedder
from agentroute.kg.extract import Entity, EntityExtractor, HeuristicExtractor
from agentroute.kg.store import GraphStore
from agentroute.types import AgentSpec, PastQuery, Query, QueryGraph, RunRecord

_CHUNK = 512  # queries per similarity block (bounds the (chunk, n_history) matrix)
_CACHE_LIMIT = 200_000
_SMALL_BATCH = 16
_SENTENCE = re.compile(r"[.;:!?\n]+\s")


def _unique(entities: list[Entity]) -> list[Entity]:
    """First mention of each id (the protocol promises it; a custom extractor might not keep it)."""
    seen: dict[str, Entity] = {}
    for e in entities:
        seen.setdefault(e.id, e)
    return list(seen.values()) if len(seen) != len(entities) else entities


@dataclass(frozen=True)
class _Rows:
    """One consistent view of the history index, rows aligned with ids/texts/scores/costs/vecs.

    Why frozen: questions are built while ``fit``/``refresh``/``add_history`` change the history (serve
    refits under load). A reader takes one ``_Rows`` per batch and writers swap in a new one, so a reader
    never sees new lists beside an old matrix.
    """

    ids: list[str]
    texts: list[str]
    scores: list[dict[str, float]]
    costs: list[dict[str, float]]
    row: dict[str, int]
    vecs: np.ndarray

    @classmethod
    def empty(cls, dim: int) -> _Rows:
        return cls([], [], [], [], {}, np.zeros((0, dim), dtype=np.float32))

    def with_records(self, recs: Sequence[RunRecord], vecs: np.ndarray) -> _Rows:
        """A copy with these records added; a record whose id is already indexed replaces that row."""
        ids, texts, scores, costs, row = (
            list(self.ids),
            list(self.texts),
            list(self.scores),
            list(self.costs),
            dict(self.row),
        )
        matrix = self.vecs
        new_rows: list[np.ndarray] = []
        for rec, vec in zip(recs, vecs, strict=True):
            i = row.get(rec.qid)
            if i is None:
                row[rec.qid] = len(ids)
                ids.append(rec.qid)
                texts.append(rec.question)
                scores.append(rec.scores())
                costs.append(rec.costs())
                new_rows.append(vec)
            else:
                if matrix is self.vecs:
                    matrix = matrix.copy()
                texts[i], scores[i], costs[i] = rec.question, rec.scores(), rec.costs()
                matrix[i] = vec
        if new_rows:
            matrix = np.concatenate([matrix, np.stack(new_rows)])
        return _Rows(ids, texts, scores, costs, row, matrix)


class _History:
    """Past questions, indexed for similarity search: the current ``_Rows`` (one query id per row)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.loaded = False
        self.lock = threading.RLock()
        self.rows = _Rows.empty(dim)

    def replace(self, records: Sequence[RunRecord], embedder: Embedder) -> None:
        with self.lock:  # held while embedding: an upsert meanwhile lands after the swap, not lost before it
            recs, vecs = _embedded(records, embedder)
            self.rows = _Rows.empty(self.dim).with_records(recs, vecs)
            self.loaded = True

    def upsert(self, records: Sequence[RunRecord], embedder: Embedder) -> None:
        """Add records; a record whose id is already indexed replaces that row (so re-recording is safe)."""
        recs, vecs = _embedded(records, embedder)
        if recs:
            with self.lock:
                self.rows = self.rows.with_records(recs, vecs)

    def __len__(self) -> int:
        return len(self.rows.ids)


def _embedded(records: Sequence[RunRecord], embedder: Embedder) -> tuple[list[RunRecord], np.ndarray]:
    """The last record of each id, and their question vectors."""
    recs = list({r.qid: r for r in records}.values())
    if not recs:
        return [], np.zeros((0, embedder.dim), dtype=np.float32)
    return recs, embedder.embed([r.question for r in recs]).astype(np.float32, copy=False)


class QueryGraphBuilder:
    """Builds query graphs against one store, one agent pool and one history index."""

    def __init__(
        self,
        store: GraphStore,
        agents: Sequence[AgentSpec],
        embedder: Embedder | None = None,
        extractor: EntityExtractor | None = None,
        k_similar: int = 10,
        max_neighbours: int = 16,
        history: Sequence[RunRecord] | None = None,
    ) -> None:
        self.store = store
        self.embedder: Embedder = embedder if embedder is not None else HashingEmbedder()
        self.extractor: EntityExtractor = extractor if extractor is not None else HeuristicExtractor()
        self.k_similar = int(k_similar)
        self.max_neighbours = int(max_neighbours)
        self._history = _History(self.embedder.dim)
        self._entity_vecs: dict[str, np.ndarray] = {}
        self._entity_kinds: dict[str, str] = {}
        self._set_agents(agents)
        if history is not None:
            self.set_history(history)

    def __repr__(self) -> str:
        n = len(self._history) if self._history.loaded else "lazy"
        return f"QueryGraphBuilder(agents={len(self._agents)}, history={n}, embedder={self.embedder!r})"

    # -- agents -----------------------------------------------------------------------------------------

    def _set_agents(self, agents: Sequence[AgentSpec]) -> None:
        self._agents = list(agents)
        names = [a.name for a in self._agents]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate agent names in {names}")
        self._agent_index = {name: i for i, name in enumerate(names)}
        if self._agents:
            self._agent_vecs = self.embedder.embed([a.profile_text() for a in self._agents])
        else:
            self._agent_vecs = np.zeros((0, self.embedder.dim), dtype=np.float32)
        self._agent_vecs.flags.writeable = False  # shared by every graph built
        self._entity_owners: dict[str, list[int]] = {}  # entity id -> agents whose profile names it
        for i, agent in enumerate(self._agents):
            for eid in sorted(self._profile_entities(agent)):
                self._entity_owners.setdefault(eid, []).append(i)

    def _profile_entities(self, agent: AgentSpec) -> frozenset[str]:
        """Entity ids an agent's own words name: its name, description and skills (extracted once)."""
        ids: set[str] = set()
        for piece in (agent.name, *_SENTENCE.split(agent.description), *agent.skills):
            ids.update(e.id for e in self.extractor.extract(piece))
        ids.update(" ".join(s.lower().split()) for s in (agent.name, *agent.skills) if s.strip())
        return frozenset(ids)

    @property
    def agents(self) -> list[AgentSpec]:
        return list(self._agents)

    def with_agents(self, agents: Sequence[AgentSpec]) -> QueryGraphBuilder:
        """A builder for another agent pool sharing this one's store, embedder, extractor and history."""
        other = QueryGraphBuilder(
            self.store, agents, self.embedder, self.extractor, self.k_similar, self.max_neighbours
        )
        other._history = self._history
        other._entity_vecs, other._entity_kinds = self._entity_vecs, self._entity_kinds
        return other

    # -- history ----------------------------------------------------------------------------------------

    def set_history(self, records: Iterable[RunRecord]) -> None:
        """Use exactly these past questions (e.g. a training fold), instead of the store's history."""
        self._history.replace(list(records), self.embedder)

    def refresh(self) -> None:
        """Reload the history index from the store."""
        self._history.replace(list(self.store.history()), self.embedder)

    def add_history(self, records: Iterable[RunRecord]) -> None:
        """Index newly recorded questions (a question already indexed is replaced, not duplicated)."""
        self._loaded_history().upsert(list(records), self.embedder)

    def history_size(self) -> int:
        return len(self._loaded_history())

    def _loaded_history(self) -> _History:
        hist = self._history
        if not hist.loaded:
            with hist.lock:
                if not hist.loaded:
                    hist.replace(list(self.store.history()), self.embedder)
        return hist

    # -- building ---------------------------------------------------------------------------------------

    def build(self, query: Query) -> QueryGraph:
        return self.build_many([query])[0]

    def build_many(self, queries: Sequence[Query]) -> list[QueryGraph]:
        """Batched ``build``: one embedding call, one store look-up and one matrix product per chunk."""
        graphs: list[QueryGraph] = []
        for start in range(0, len(queries), _CHUNK):
            graphs.extend(self._build_chunk(list(queries[start : start + _CHUNK])))
        return graphs

    def _build_chunk(self, queries: list[Query]) -> list[QueryGraph]:
        qvecs = self.embedder.embed([q.text for q in queries]).astype(np.float32, copy=False)
        mentioned = [_unique(self.extractor.extract(q.text)) for q in queries]
        rows_by_entity = self._neighbourhoods({e.id for ents in mentioned for e in ents})
        rows = self._loaded_history().rows  # one view for the whole chunk
        similar = self._similar(queries, qvecs, rows)
        parts = [self._entities(ents, rows_by_entity) for ents in mentioned]
        blocks = self._entity_blocks([ids for ids, _, _ in parts], mentioned)
        return [
            self._assemble(query, qvecs[i], mentioned[i], *parts[i], similar[i], blocks[i], rows)
            for i, query in enumerate(queries)
        ]

    def _neighbourhoods(self, entity_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
        """One store call for the whole chunk, rows indexed by the mentioned entity they touch."""
        by_entity: dict[str, list[dict[str, Any]]] = {}
        if not entity_ids:
            return by_entity
        for row in self.store.neighbourhood(sorted(entity_ids)):
            touched = (row["src"], row["dst"]) if row["rel"] == "RELATED" else (row["dst"],)
            for eid in dict.fromkeys(touched):
                if eid in entity_ids:
                    by_entity.setdefault(eid, []).append(row)
        return by_entity

    def _entities(
        self, mentioned: list[Entity], rows_by_entity: dict[str, list[dict[str, Any]]]
    ) -> tuple[list[str], list[tuple[int, int, str]], list[tuple[str, str]]]:
        """Entity ids (mentioned first, then neighbours), RELATED triples and store COVERS pairs."""
        ids = [e.id for e in mentioned]
        index = {eid: i for i, eid in enumerate(ids)}
        rows: list[dict[str, Any]] = []
        seen: set[int] = set()
        for eid in ids:
            for row in rows_by_entity.get(eid, ()):
                if id(row) not in seen:
                    seen.add(id(row))
                    rows.append(row)
        for row in rows:
            if row["rel"] != "RELATED" or len(index) - len(mentioned) >= self.max_neighbours:
                continue
            other = row["dst"] if row["src"] in index else row["src"]
            if other not in index:
                index[other] = len(ids)
                ids.append(other)
        related: list[tuple[int, int, str]] = []
        store_covers: list[tuple[str, str]] = []
        for row in rows:
            src, dst = row["src"], row["dst"]
            if row["rel"] == "RELATED":
                if src in index and dst in index:
                    related.append((index[src], index[dst], str(row.get("kind", ""))))
            elif src in self._agent_index:
                store_covers.append((src, dst))
        return ids, list(dict.fromkeys(related)), store_covers

    def _entity_blocks(self, id_lists: list[list[str]], mentioned: list[list[Entity]]) -> list[np.ndarray]:
        """Entity feature rows per query: embed unseen ids once, stack the chunk once, slice per query."""
        vecs = self._entity_vecs_for({eid for ids in id_lists for eid in ids}, mentioned)
        flat = [vecs[eid] for ids in id_lists for eid in ids]
        if not flat:
            return [np.zeros((0, self.embedder.dim), dtype=np.float32) for _ in id_lists]
        stacked = np.stack(flat)
        bounds = np.cumsum([len(ids) for ids in id_lists])[:-1]
        return np.split(stacked, bounds)

    def _entity_vecs_for(self, ids: set[str], mentioned: list[list[Entity]]) -> dict[str, np.ndarray]:
        """The vectors of these entity ids, from the shared cache or embedded now (and cached). The result
        is this call's own dict: another thread emptying the full cache cannot take a vector from it."""
        cache = self._entity_vecs
        found = {eid: vec for eid in ids if (vec := cache.get(eid)) is not None}
        missing = sorted(ids.difference(found))
        if len(cache) + len(missing) > _CACHE_LIMIT:
            cache.clear()
        for eid, vec in zip(missing, self.embedder.embed(missing), strict=True):
            found[eid] = cache[eid] = vec
        for ents in mentioned:
            for e in ents:
                self._entity_kinds.setdefault(e.id, e.kind)
        return found

    def _kind(self, eid: str) -> str:
        kind = self._entity_kinds.get(eid)
        if kind is None:
            node = self.store.get_node("Entity", eid) or {}
            kind = self._entity_kinds[eid] = str(node.get("kind") or node.get("type") or "entity")
        return kind

    def _similar(self, queries: list[Query], qvecs: np.ndarray, rows: _Rows) -> list[list[tuple[int, float]]]:
        """(history row, cosine) of the top-k past questions per query, best first, never the query itself."""
        vecs = rows.vecs
        n = len(vecs)
        k = min(self.k_similar, n)
        if k <= 0:
            return [[] for _ in queries]
        # a few queries: numpy's own loop, not multi-threaded BLAS (which stalls on a busy machine)
        sims = np.einsum("ij,kj->ik", qvecs, vecs) if len(queries) < _SMALL_BATCH else qvecs @ vecs.T
        for i, q in enumerate(queries):
            own = rows.row.get(q.id)
            if own is not None:
                sims[i, own] = -np.inf
        if k < n:
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            top = np.broadcast_to(np.arange(n), (len(queries), n))
        vals = np.take_along_axis(sims, top, axis=1)
        order = np.lexsort((top, -vals), axis=1)  # best first; ties by history order (deterministic)
        top = np.take_along_axis(top, order, axis=1).tolist()
        vals = np.take_along_axis(vals, order, axis=1).tolist()
        inf = -np.inf
        pairs = zip(top, vals, strict=True)
        return [[(r, v) for r, v in zip(rs, vs, strict=True) if v != inf] for rs, vs in pairs]

    def _assemble(
        self,
        query: Query,
        qvec: np.ndarray,
        mentioned: list[Entity],
        ids: list[str],
        related: list[tuple[int, int, str]],
        store_covers: list[tuple[str, str]],
        past: list[tuple[int, float]],
        entity_vecs: np.ndarray,
        rows: _Rows,
    ) -> QueryGraph:
        dim = self.embedder.dim
        index = {eid: i for i, eid in enumerate(ids)}
        owners = self._entity_owners
        covers = {(a, index[eid]) for eid in ids if eid in owners for a in owners[eid]}
        covers.update((self._agent_index[a], index[e]) for a, e in store_covers if e in index)
        past_vecs = rows.vecs[[r for r, _ in past]] if past else np.zeros((0, dim), dtype=np.float32)
        ids_, texts, scores, costs = rows.ids, rows.texts, rows.scores, rows.costs
        similar = [PastQuery(ids_[r], texts[r], s, dict(scores[r]), dict(costs[r])) for r, s in past]
        return QueryGraph(
            query=query.for_routing() if query.gold is not None else query,
            query_vec=qvec,
            entities=ids,
            entity_kinds=[e.kind for e in mentioned] + [self._kind(eid) for eid in ids[len(mentioned) :]],
            n_mentioned=len(mentioned),
            entity_vecs=entity_vecs,
            related=related,
            agents=list(self._agents),
            agent_vecs=self._agent_vecs,
            covers=sorted(covers),
            similar=similar,
            past_vecs=past_vecs,
        )
