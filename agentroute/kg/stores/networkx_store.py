"""In-process graph store on a ``networkx.MultiDiGraph``, optionally persisted to a JSON file.

Node key = ``(label, id)``, node data = the node's properties (including ``id``).
Edge key = ``(rel, kind)`` between the two node keys, edge data = the edge's properties.
The default store for ``memory`` and ``file:PATH``; it follows the ``GraphStore`` protocol exactly so the
shared conformance suite runs against it and against Neo4j alike.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast

import networkx as nx

from agentroute.atomic import atomic_write
from agentroute.kg.properties import check_performed, clean_props, row_id
from agentroute.types import ENDPOINTS, NODE_LABELS, AgentRecord, NodeLabel, RelType, RunRecord

FORMAT_VERSION = 1

#: AgentRecord field -> PERFORMED edge property (and back, in ``history``).
_PERFORMED_PROPS: dict[str, str] = {
    "score": "score",
    "cost_usd": "cost",
    "pred": "pred",
    "latency_s": "latency_s",
    "steps": "steps",
}

NodeKey = tuple[str, str]
EdgeKey = tuple[NodeKey, NodeKey, tuple[str, str]]


class StoreFileError(ValueError):
    """A graph file that cannot be loaded (corrupt JSON, wrong format or version)."""


def _check_label(label: str) -> None:
    if label not in NODE_LABELS:
        raise ValueError(f"unknown node label {label!r}: expected one of {', '.join(NODE_LABELS)}")


def _check_rel(rel: str) -> None:
    if rel not in ENDPOINTS:
        raise ValueError(f"unknown relationship type {rel!r}: expected one of {', '.join(ENDPOINTS)}")


def _merge(data: dict[str, Any], props: Mapping[str, Any]) -> None:
    """Update properties like Cypher ``SET x += props``: a None value removes the property."""
    for key, value in props.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value


def _dump_json(doc: dict[str, Any], fh: BinaryIO, chunk: int = 10_000) -> None:
    """Write ``doc`` as compact UTF-8 JSON into a binary file, its lists ``chunk`` items at a time: the same
    bytes as ``json.dumps(doc)``, without a second copy of a large graph in memory, and with the C encoder
    (``json.dump`` to a file runs the pure-Python one, 3-4x slower: a fifth of a ``kg ingest``)."""
    dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
    fh.write(b"{")
    for i, (key, value) in enumerate(doc.items()):
        fh.write((b"," if i else b"") + dumps(key).encode("utf-8") + b":")
        if not isinstance(value, list):
            fh.write(dumps(value).encode("utf-8"))
            continue
        fh.write(b"[")
        for start in range(0, len(value), chunk):
            part = dumps(value[start : start + chunk])[1:-1]  # the items, without the list's brackets
            fh.write(((b"," if start else b"") + part.encode("utf-8")) if part else b"")
        fh.write(b"]")
    fh.write(b"}")


class NetworkXStore:
    """A ``GraphStore`` held in memory; with ``path`` it loads that file and ``flush``/``close`` save it."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._g: nx.MultiDiGraph = nx.MultiDiGraph()
        # Entity -> its RELATED/COVERS edges, so ``neighbourhood`` skips the many MENTIONS of common entities
        self._touching: dict[NodeKey, set[EdgeKey]] = {}
        self._lock = threading.RLock()
        self._dirty = False
        # the file as loaded or last saved (its stat, then its bytes' hash): another writer changes them
        self._seen: tuple[tuple[int, int, int] | None, str | None] = (_version(self.path), None)
        self._aside: Path | None = None  # once another writer saved the file: where this store saves instead
        if self.path is not None and self.path.exists():
            self._load(self.path)

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "memory"
        g = self._g
        return f"NetworkXStore({where!r}, nodes={g.number_of_nodes()}, edges={g.number_of_edges()})"

    def __enter__(self) -> NetworkXStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The underlying graph, for read-only use (export, inspection)."""
        return self._g

    # -- writes -----------------------------------------------------------------------------------------

    def upsert_nodes(self, label: NodeLabel, rows: Sequence[Mapping[str, Any]]) -> int:
        prepared = _node_rows(label, rows)  # every row checked before any is written
        with self._lock:
            self._write_nodes(prepared)
        return len(rows)

    def upsert_edges(self, rel: RelType, rows: Sequence[Mapping[str, Any]]) -> int:
        prepared = _edge_rows(rel, rows)
        with self._lock:
            self._write_edges(prepared)
        return len(rows)

    def record(self, run: RunRecord, entities: Sequence[str] = ()) -> None:
        self.record_many([run], [entities])

    def record_many(self, runs: Sequence[RunRecord], entities: Sequence[Sequence[str]]) -> None:
        if len(runs) != len(entities):
            raise ValueError(f"record_many: {len(runs)} runs but {len(entities)} entity lists")
        queries: list[dict[str, Any]] = []
        agents: dict[str, dict[str, Any]] = {}
        mentions: list[dict[str, Any]] = []
        performed: list[dict[str, Any]] = []
        for run, ents in zip(runs, entities, strict=True):
            queries.append(
                {
                    "id": run.qid,
                    "text": run.question,
                    "dataset": run.dataset,
                    "split": run.split,
                    "gold": list(run.gold) if run.gold is not None else None,
                }
            )
            mentions.extend({"src": run.qid, "dst": e} for e in ents)
            for name, rec in run.agents.items():
                agents.setdefault(name, {"id": name})
                edge: dict[str, Any] = {"src": run.qid, "dst": name}
                for field, prop in _PERFORMED_PROPS.items():
                    value = getattr(rec, field)
                    if value is not None:
                        edge[prop] = value
                performed.append(edge)
        # all checked first, so a bad run writes nothing of the batch
        nodes, known = _node_rows("Query", queries), _node_rows("Agent", list(agents.values()))
        mentioned, scored = _edge_rows("MENTIONS", mentions), _edge_rows("PERFORMED", performed)
        with self._lock:
            self._write_nodes(nodes)
            self._add_missing("Agent", [key[1] for key, _ in known])
            self._write_edges(mentioned)
            self._write_edges(scored)

    def delete_query(self, id: str) -> bool:
        key = ("Query", str(id))
        with self._lock:
            if key not in self._g:
                return False
            self._g.remove_node(key)
            self._dirty = True
        return True

    def clear(self) -> None:
        with self._lock:
            self._g.clear()
            self._touching.clear()
            self._dirty = True

    # -- reads ------------------------------------------------------------------------------------------

    def get_node(self, label: NodeLabel, id: str) -> dict[str, Any] | None:
        _check_label(label)
        with self._lock:
            data = self._g.nodes.get((label, str(id)))
            return self._copy(data) if data is not None else None

    def nodes(self, label: NodeLabel) -> list[dict[str, Any]]:
        _check_label(label)
        with self._lock:  # copied under the lock: a writer may be adding properties
            found = [(key[1], self._copy(data)) for key, data in self._g.nodes(data=True) if key[0] == label]
        return [data for _, data in sorted(found, key=lambda item: item[0])]

    def edges(self, rel: RelType, src: str | None = None, dst: str | None = None) -> list[dict[str, Any]]:
        _check_rel(rel)
        src_label, dst_label = ENDPOINTS[rel]
        skey = (src_label, str(src)) if src is not None else None
        dkey = (dst_label, str(dst)) if dst is not None else None
        succ, pred = self._g.succ, self._g.pred
        with self._lock:
            if skey is not None:
                pairs = [(skey, succ[skey])] if skey in succ else []
            elif dkey is not None:
                pairs = [(u, {dkey: keyed}) for u, keyed in pred[dkey].items()] if dkey in pred else []
            else:
                pairs = [(u, nbrs) for u, nbrs in succ.items() if u[0] == src_label]
            return [
                {"src": u[1], "dst": v[1], **self._copy(data)}
                for u, nbrs in pairs
                for v, keyed in nbrs.items()
                if v[0] == dst_label and (dkey is None or v == dkey)
                for key, data in keyed.items()
                if key[0] == rel
            ]

    def neighbourhood(self, entity_ids: Sequence[str]) -> list[dict[str, Any]]:
        with self._lock:
            found: set[EdgeKey] = set()
            for eid in entity_ids:
                found.update(self._touching.get(("Entity", str(eid)), ()))
            # sorted, so the order (and the builder's choice of neighbours) survives a save and reload
            ordered = sorted(found, key=lambda e: (e[2][0], e[0][1], e[1][1], e[2][1]))
            edges = self._g.edges
            return [{"rel": k[0], "src": u[1], "dst": v[1], **self._copy(edges[u, v, k])} for u, v, k in ordered]

    def history(self) -> Iterator[RunRecord]:
        succ = self._g.succ
        with self._lock:
            runs: list[RunRecord] = []
            for key, data in self._g.nodes(data=True):
                if key[0] != "Query":
                    continue
                agents = {
                    v[1]: AgentRecord(**{f: e[p] for f, p in _PERFORMED_PROPS.items() if p in e})
                    for v, keyed in succ[key].items()
                    if v[0] == "Agent"
                    for ekey, e in keyed.items()
                    if ekey[0] == "PERFORMED"
                }
                if not agents:
                    continue
                runs.append(
                    RunRecord(
                        qid=key[1],
                        question=data.get("text", ""),
                        dataset=data.get("dataset"),
                        split=data.get("split"),
                        gold=data.get("gold"),
                        agents=agents,
                    )
                )
        runs.sort(key=lambda r: r.qid)
        return iter(runs)

    def counts(self) -> dict[str, int]:
        out = {label: 0 for label in NODE_LABELS} | {rel: 0 for rel in ENDPOINTS}
        with self._lock:
            for label, _ in self._g.nodes:
                out[label] += 1
            for _, _, key in self._g.edges(keys=True):
                out[key[0]] += 1
        return out

    # -- persistence ------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write the file atomically (temp file in the same folder, fsync, rename) if anything changed (so
        opening and closing a store that does not exist yet creates no file).

        One writer per file: when another process saved the file since this store loaded it (its bytes
        changed, not merely its time stamp), saving would drop that process's changes, so this store's
        graph goes to ``<file>.conflict-<pid>.json`` instead, then and at every later save, and the first
        such save raises ``StoreFileError`` naming both files."""
        if self.path is None:
            return
        with self._lock:
            if not self._dirty:
                return
            doc = {
                "format_version": FORMAT_VERSION,
                "nodes": [{"label": k[0], "props": data} for k, data in self._g.nodes(data=True)],
                "edges": [
                    {"rel": key[0], "src": u[1], "dst": v[1], "props": data}
                    for u, v, key, data in self._g.edges(keys=True, data=True)
                ],
            }
            if self._aside is not None:
                atomic_write(self._aside, lambda fh: _dump_json(doc, fh))
                self._dirty = False
                return
            if self._changed_on_disk():
                self._aside = self.path.with_name(f"{self.path.name}.conflict-{os.getpid()}.json")
                atomic_write(self._aside, lambda fh: _dump_json(doc, fh))
                self._dirty = False
                raise StoreFileError(
                    f"{self.path} changed on disk since this store loaded it (another process saved it): "
                    f"not overwritten; this store's graph is in {self._aside}, and goes on being saved there"
                )
            digest = hashlib.sha256()
            atomic_write(self.path, lambda fh: _dump_json(doc, cast(BinaryIO, _Hashing(fh, digest))))
            self._dirty = False
            self._seen = (_version(self.path), digest.hexdigest())

    def _changed_on_disk(self) -> bool:
        """Whether the file is not what this store loaded or last saved (a new time stamp alone is not)."""
        assert self.path is not None
        stat, digest = self._seen
        now = _version(self.path)
        if now == stat:
            return False
        if now is None or stat is None or digest is None:
            return True
        same = _file_hash(self.path) == digest
        if same:
            self._seen = (now, digest)
        return not same

    def close(self) -> None:
        self.flush()

    def _load(self, path: Path) -> None:
        try:
            raw = path.read_bytes()
            doc = json.loads(raw.decode("utf-8"))
            self._seen = (self._seen[0], hashlib.sha256(raw).hexdigest())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise StoreFileError(f"{path}: not a readable agentroute graph file ({e})") from None
        if not isinstance(doc, dict) or "format_version" not in doc:
            raise StoreFileError(f"{path}: not an agentroute graph file (no format_version)")
        if doc["format_version"] != FORMAT_VERSION:
            raise StoreFileError(
                f"{path}: graph file format_version {doc['format_version']!r} is not supported "
                f"(expected {FORMAT_VERSION})"
            )
        try:
            for node in doc["nodes"]:
                label = node["label"]
                _check_label(label)
                props = dict(node["props"])
                self._g.add_node((label, str(props["id"])), **props)
            for edge in doc["edges"]:
                rel = edge["rel"]
                _check_rel(rel)
                src_label, dst_label = ENDPOINTS[rel]
                props = dict(edge["props"])
                if rel == "PERFORMED":
                    check_performed(edge.get("src"), edge.get("dst"), props)
                kind = props.get("kind")
                self._add_edge(
                    self._ensure_key(src_label, str(edge["src"])),
                    self._ensure_key(dst_label, str(edge["dst"])),
                    (rel, "" if kind is None else str(kind)),
                    props,
                )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            self.clear()
            why = f"{type(e).__name__}: {e}"
            raise StoreFileError(f"{path}: malformed agentroute graph file ({why})") from None

    # -- helpers ----------------------------------------------------------------------------------------

    def _write_nodes(self, prepared: Sequence[tuple[NodeKey, dict[str, Any]]]) -> None:
        for key, props in prepared:
            _merge(self._ensure_node(key), props)
        self._dirty = self._dirty or bool(prepared)

    def _write_edges(self, prepared: Sequence[tuple[NodeKey, NodeKey, tuple[str, str], dict[str, Any]]]) -> None:
        for src, dst, ekey, props in prepared:
            self._ensure_key(*src)
            self._ensure_key(*dst)
            if not self._g.has_edge(src, dst, ekey):
                self._add_edge(src, dst, ekey, {})
            _merge(self._g.edges[src, dst, ekey], props)
        self._dirty = self._dirty or bool(prepared)

    @staticmethod
    def _copy(data: Mapping[str, Any]) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, list) else v for k, v in data.items()}

    def _add_edge(self, src: NodeKey, dst: NodeKey, key: tuple[str, str], props: dict[str, Any]) -> None:
        self._g.add_edge(src, dst, key=key, **props)
        if key[0] in ("RELATED", "COVERS"):
            self._touching.setdefault(dst, set()).add((src, dst, key))
            if key[0] == "RELATED":
                self._touching.setdefault(src, set()).add((src, dst, key))

    def _ensure_node(self, key: NodeKey) -> dict[str, Any]:
        if key not in self._g:
            self._g.add_node(key, id=key[1])
        return self._g.nodes[key]

    def _ensure_key(self, label: str, id: str) -> NodeKey:
        key = (label, id)
        if key not in self._g:
            self._g.add_node(key, id=id)
        return key

    def _add_missing(self, label: str, ids: Sequence[str]) -> None:
        for id in ids:
            self._ensure_key(label, str(id))


class _Hashing(io.RawIOBase):
    """A binary file that also feeds what is written to it into a hash (the save's fingerprint)."""

    def __init__(self, fh: BinaryIO, digest: Any) -> None:
        self._fh, self._digest = fh, digest

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._digest.update(data)
        return self._fh.write(data)


def _file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _version(path: Path | None) -> tuple[int, int, int] | None:
    """What tells one save of a file from another: inode, size, modification time (None: no file)."""
    try:
        st = path.stat() if path is not None else None
    except OSError:
        return None
    return None if st is None else (st.st_ino, st.st_size, st.st_mtime_ns)


def _node_rows(label: str, rows: Sequence[Mapping[str, Any]]) -> list[tuple[NodeKey, dict[str, Any]]]:
    """Rows as (node key, clean properties), every one checked (``kg/properties.py``)."""
    _check_label(label)
    return [((label, row_id(row, "id")), clean_props(row, skip=("id",))) for row in rows]


def _edge_rows(
    rel: str, rows: Sequence[Mapping[str, Any]]
) -> list[tuple[NodeKey, NodeKey, tuple[str, str], dict[str, Any]]]:
    """Rows as (source key, target key, edge key, clean properties); ``kind`` is kept as text, as a Bolt
    server keeps it, and an empty one is no property."""
    _check_rel(rel)
    src_label, dst_label = ENDPOINTS[rel]
    out = []
    for row in rows:
        props = clean_props(row, skip=("src", "dst", "kind"))
        if rel == "PERFORMED":
            check_performed(row.get("src"), row.get("dst"), props)
        kind = "" if row.get("kind") is None else str(row["kind"])
        if kind:
            props["kind"] = kind
        src, dst = (src_label, row_id(row, "src")), (dst_label, row_id(row, "dst"))
        out.append((src, dst, (rel, kind), props))
    return out
