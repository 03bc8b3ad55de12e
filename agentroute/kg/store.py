"""The GraphStore protocol and the ``--store`` URL resolver.

A store holds everything the system learns: Query, Entity and Agent nodes and the MENTIONS, RELATED,
COVERS, SIMILAR and PERFORMED relationships between them (endpoint labels fixed by ``types.ENDPOINTS``).
Every backend passes the same conformance suite (``tests/kg/test_store_conformance.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from agentroute.registry import Registry
from agentroute.secrets import redact
from agentroute.types import NodeLabel, RelType, RunRecord


@runtime_checkable
class GraphStore(Protocol):
    """Batched, idempotent graph storage.

    Node rows are mappings with an ``"id"`` key plus properties (str, int, float, bool, or lists of
    str/float). Edge rows have ``"src"`` and ``"dst"`` ids plus properties; an edge is identified by
    (rel, src, dst, kind) where ``kind`` is the row's ``"kind"`` property ("" when absent), so upserting
    the same edge twice updates it. Missing endpoint nodes are created with just their id.

    An implementer guarantees what ``agentroute.testing.store_conformance`` checks: round trips keep every
    property (floats to six decimals), writes are idempotent, ids and texts are stored verbatim (never
    interpreted as queries), unknown labels/types are refused before anything is written, and ``close``
    releases what the store opened (saving, for file-backed stores).
    """

    def upsert_nodes(self, label: NodeLabel, rows: Sequence[Mapping[str, Any]]) -> int:
        """Create or update nodes; returns the number of rows written."""
        ...

    def upsert_edges(self, rel: RelType, rows: Sequence[Mapping[str, Any]]) -> int:
        """Create or update relationships; returns the number of rows written."""
        ...

    def get_node(self, label: NodeLabel, id: str) -> dict[str, Any] | None:
        """The node's properties (including ``id``), or None."""
        ...

    def nodes(self, label: NodeLabel) -> list[dict[str, Any]]:
        """Every node of one label (properties including ``id``), ordered by id."""
        ...

    def edges(self, rel: RelType, src: str | None = None, dst: str | None = None) -> list[dict[str, Any]]:
        """Relationships of one type, optionally filtered by endpoint ids; rows carry src, dst and props."""
        ...

    def neighbourhood(self, entity_ids: Sequence[str]) -> list[dict[str, Any]]:
        """RELATED edges touching any of the entities (either direction) and COVERS edges into them.

        Each row: ``{"rel": "RELATED"|"COVERS", "src": id, "dst": id, **props}``.
        """
        ...

    def record(self, run: RunRecord, entities: Sequence[str] = ()) -> None:
        """Store one question and its agents' outcomes: Query node, MENTIONS to ``entities``,
        Agent nodes and PERFORMED edges (score, cost, pred)."""
        ...

    def record_many(self, runs: Sequence[RunRecord], entities: Sequence[Sequence[str]]) -> None:
        """Batched ``record`` (one transaction per batch where the backend has them)."""
        ...

    def history(self) -> Iterator[RunRecord]:
        """Every recorded question with its agents' outcomes, ordered by query id."""
        ...

    def delete_query(self, id: str) -> bool:
        """Remove a Query node and its relationships; True if it existed."""
        ...

    def counts(self) -> dict[str, int]:
        """Number of nodes per label and relationships per type (keys: labels and rel types)."""
        ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Flushes(Protocol):
    """A store that buffers writes (the ``file:`` store): ``flush()`` makes them durable now, before close."""

    def flush(self) -> None: ...


StoreFactory = Callable[[str], GraphStore]
_STORES: Registry[GraphStore] = Registry("store", " (e.g. memory, file:kg.json, bolt://host:7687)")
for _scheme in ("memory", "file"):
    _STORES.register(_scheme, "agentroute.kg.stores:networkx_from_url")
for _scheme in ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"):
    _STORES.register(_scheme, "agentroute.kg.stores:neo4j_from_url")


def register_store(scheme: str, factory: str | StoreFactory | None = None) -> Callable[[StoreFactory], StoreFactory]:
    """Make ``open_store("<scheme>:...")`` call ``factory`` (or ``"module:factory"``) with the full URL;
    a decorator when ``factory`` is omitted."""
    return _STORES.register(scheme, factory)


def store_schemes() -> list[str]:
    """The URL schemes ``open_store`` accepts (built-in backends and registered ones)."""
    return _STORES.names()


def open_store(url: str = "memory") -> GraphStore:
    """Open a store from a ``--store`` value: ``memory``, ``file:PATH``, ``bolt://…``, ``neo4j://…``, ``neo4j+s://…``."""
    scheme = url.split(":", 1)[0] if ":" in url else url
    if scheme not in _STORES:
        raise ValueError(f"unknown store {redact(url)!r}: expected one of {', '.join(_STORES.names())}{_STORES.hint}")
    return _STORES.make(scheme, url)
