"""``Neo4jStore``: the ``GraphStore`` protocol over Bolt with the official ``neo4j`` driver.

One driver per store; writes go through managed write transactions (``execute_write``, one per call,
retried by the driver on transient errors, which is safe because every write is an idempotent MERGE);
reads are auto-commit queries in read-mode sessions (one round trip each, which keeps neighbourhood
look-ups in the low milliseconds). Every write is ``UNWIND $rows AS row MERGE ...`` in batches; values
are always parameters; labels and relationship types are formatted into queries only after being checked
against ``types.NODE_LABELS`` / ``types.ENDPOINTS``. Server differences (DDL, FalkorDB's Bolt quirks) live
in ``cypher_dialect``.

Data model (the same as ``NetworkXStore`` and ``graphs/schema.cypher``): nodes keyed by ``id`` per label;
an edge is identified by (type, src, dst, ``kind``) and always carries ``kind`` ("" when the row has none;
rows read back omit an empty kind). Query nodes hold ``text``, ``dataset``, ``split``, ``gold``; PERFORMED
edges hold ``score``, ``cost``, ``pred``, ``latency_s``, ``steps`` where known.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import neo4j
from neo4j.exceptions import AuthError, ClientError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from agentroute.kg.properties import check_performed, clean_props, property_value, row_id
from agentroute.kg.stores.cypher_dialect import (
    Dialect,
    clear_stale_bolt_slot,
    detect_dialect,
    make_dialect,
)
from agentroute.types import ENDPOINTS, NODE_LABELS, AgentRecord, NodeLabel, RelType, RunRecord

SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")

#: AgentRecord field -> PERFORMED edge property.
_PERFORMED_PROPS: dict[str, str] = {
    "score": "score",
    "cost_usd": "cost",
    "pred": "pred",
    "latency_s": "latency_s",
    "steps": "steps",
}
_CLEAR_BATCH = 10_000


class StoreConnectionError(RuntimeError):
    """The Bolt server cannot be used: unreachable, login refused, unknown database, or unusable dialect."""


def _label(label: str) -> str:
    if label not in NODE_LABELS:
        raise ValueError(f"unknown node label {label!r}: expected one of {', '.join(NODE_LABELS)}")
    return label


def _rel(rel: str) -> tuple[str, str, str]:
    """(rel, src label, dst label), validated against the fixed schema."""
    if rel not in ENDPOINTS:
        raise ValueError(f"unknown relationship type {rel!r}: expected one of {', '.join(ENDPOINTS)}")
    src, dst = ENDPOINTS[rel]
    return rel, src, dst


def _last_wins(data: list[list[Any]], n_key: int) -> list[list[Any]]:
    """Rows sharing a key merged into one, later properties over earlier ones (the last item of each row),
    as the in-memory store applies them: one ``UNWIND ... MERGE`` statement would keep the first row's."""
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for row in data:
        key = tuple(row[:n_key])
        if key in merged:
            merged[key][-1] = {**merged[key][-1], **row[-1]}
        else:
            merged[key] = [*row[:-1], dict(row[-1])]
    return list(merged.values())


def _edge_row(src: str, dst: str, props: Mapping[str, Any]) -> dict[str, Any]:
    row = {"src": src, "dst": dst, **props}
    if row.get("kind") == "":
        del row["kind"]
    return row


def _one_line(e: BaseException) -> str:
    text = getattr(e, "message", None) or str(e) or type(e).__name__
    return " ".join(str(text).split())


def parse_bolt_url(url: str) -> dict[str, Any]:
    """``Neo4jStore`` arguments from a URL: ``uri`` (no credentials, no query), ``user``, ``password``,
    ``database``, ``dialect``. Credentials and database default to the NEO4J_USER / NEO4J_PASSWORD /
    NEO4J_DATABASE environment variables; ``?database=`` and ``?dialect=`` query parameters are read."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"not a Bolt URL: {parts.scheme}://… (expected one of {', '.join(SCHEMES)})")
    if "@" in parts.path + parts.query + parts.fragment:  # bolt://neo4j:4711/pw@db: the password split up
        raise ValueError(f"{parts.scheme}:// URL has an '@' after its host: percent-encode a password's / # ?")
    if not parts.hostname:
        raise ValueError(f"Bolt URL has no host: {parts.scheme}://…")
    query = parse_qs(parts.query)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = _port(parts)
    netloc = f"{host}:{port}" if port else host
    return {
        "uri": f"{parts.scheme}://{netloc}",
        "user": unquote(parts.username) if parts.username else os.environ.get("NEO4J_USER"),
        "password": unquote(parts.password) if parts.password is not None else os.environ.get("NEO4J_PASSWORD"),
        "database": query.get("database", [None])[0] or os.environ.get("NEO4J_DATABASE") or None,
        "dialect": query.get("dialect", [None])[0],
    }


def _port(parts: SplitResult) -> int | None:
    """The URL's port; a bad one is an error that does not quote it (with a password holding ``/``, ``#`` or
    ``?`` unencoded, what urllib reads as the port is part of the password)."""
    try:
        return parts.port
    except ValueError:
        raise ValueError(
            f"{parts.scheme}:// URL has a bad port, or a password holding / # ? unencoded (percent-encode them)"
        ) from None


class Neo4jStore:
    """A ``GraphStore`` in Neo4j 5 (or another Bolt server: FalkorDB, Memgraph) reached over Bolt."""

    def __init__(
        self,
        uri: str,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        dialect: str | None = None,
        batch_size: int = 1000,
        connect_timeout: float = 5.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        parts = urlsplit(uri)
        if parts.scheme not in SCHEMES or parts.username or parts.password:
            raise ValueError(f"expected a Bolt URI like bolt://host:7687 without credentials, got {parts.scheme}://…")
        self.uri = uri
        self.database = database or None
        self.batch_size = batch_size
        self._host, self._port = parts.hostname, _port(parts) or 7687
        self._dialect: Dialect = make_dialect(dialect) if dialect else Dialect()
        self._bookmarks = neo4j.GraphDatabase.bookmark_manager()
        self._schema_lock, self._schema_ready = threading.Lock(), False
        auth = neo4j.basic_auth(user or "", password or "") if (user or password) else None
        self._driver = neo4j.GraphDatabase.driver(
            uri,
            auth=auth,
            connection_timeout=connect_timeout,
            connection_acquisition_timeout=connect_timeout + 1,
            max_transaction_retry_time=connect_timeout * 2,
        )
        try:
            self._verify_connectivity()
            self._run_auto("RETURN 1 AS ok")  # a wrong database name fails here, not on first use
            if dialect is None:
                found = detect_dialect(self._run_auto)
                if found is None:
                    raise StoreConnectionError(
                        f"cannot open graph store {uri}: the server is neither Neo4j 5, FalkorDB nor Memgraph "
                        "by its procedures; pass dialect='neo4j5'|'falkordb'|'memgraph'"
                    )
                self._dialect = found
            if self.database and not self._dialect.supports_databases:
                raise StoreConnectionError(
                    f"cannot open graph store {uri}: {self._dialect.name} cannot select database "
                    f"{self.database!r} over Bolt; leave the database unset"
                )
        except StoreConnectionError:
            self._close_driver(clear_slot=True)
            raise
        except Exception as e:
            # the server answered but failed us: it may be FalkorDB, whose Bolt slot the close leaves stale
            self._close_driver(clear_slot=not isinstance(e, ServiceUnavailable))
            why = self._explain(e, user)
            if password:
                why = why.replace(password, "***")
            raise StoreConnectionError(f"cannot open graph store {uri}: {why}") from None

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Neo4jStore:
        """``bolt://user:pass@host:7687?database=db&dialect=falkordb`` (see ``parse_bolt_url``)."""
        return cls(**{**parse_bolt_url(url), **kwargs})

    def __repr__(self) -> str:
        db = f", database={self.database!r}" if self.database else ""
        return f"Neo4jStore({self.uri!r}{db}, dialect={self._dialect.name!r})"

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    # -- writes -----------------------------------------------------------------------------------------

    def upsert_nodes(self, label: NodeLabel, rows: Sequence[Mapping[str, Any]]) -> int:
        lab = _label(label)
        data = _last_wins([[row_id(r, "id"), clean_props(r, skip=("id",))] for r in rows], 1)
        query = f"UNWIND $rows AS row MERGE (n:{lab} {{id: row[0]}}) SET n += row[1]"
        self._write(self._plan(query, data))
        return len(rows)

    def upsert_edges(self, rel: RelType, rows: Sequence[Mapping[str, Any]]) -> int:
        rel_, src, dst = _rel(rel)
        data = []
        for r in rows:
            props = clean_props(r, skip=("src", "dst", "kind"))
            kind = "" if r.get("kind") is None else str(r["kind"])  # part of the identity, set by MERGE
            if rel == "PERFORMED":
                check_performed(r.get("src"), r.get("dst"), props)
            data.append([row_id(r, "src"), row_id(r, "dst"), kind, props])
        data = _last_wins(data, 3)
        query = (
            f"UNWIND $rows AS row MERGE (a:{src} {{id: row[0]}}) MERGE (b:{dst} {{id: row[1]}}) "
            f"MERGE (a)-[r:{rel_} {{kind: row[2]}}]->(b) SET r += row[3]"
        )
        self._write(self._plan(query, data))
        return len(rows)

    def record(self, run: RunRecord, entities: Sequence[str] = ()) -> None:
        self.record_many([run], [entities])

    def record_many(self, runs: Sequence[RunRecord], entities: Sequence[Sequence[str]]) -> None:
        """Query nodes, Agent nodes, MENTIONS and PERFORMED edges: four kinds of batched statements in one
        transaction (FalkorDB has none: there each statement is atomic on its own)."""
        if len(runs) != len(entities):
            raise ValueError(f"record_many: {len(runs)} runs but {len(entities)} entity lists")
        queries, mentions, performed = [], [], []
        agents: dict[str, None] = {}
        for run, ents in zip(runs, entities, strict=True):
            if not run.qid:
                raise ValueError(f"record with an empty qid: {run.question[:80]!r}")
            gold = list(run.gold) if run.gold is not None else None
            props = {"text": run.question, "dataset": run.dataset, "split": run.split, "gold": gold}
            queries.append([run.qid, clean_props(props, skip=())])
            ids = list(dict.fromkeys(str(e) for e in ents))
            if "" in ids:
                raise ValueError(f"record {run.qid!r}: empty entity id")
            for e in ids:
                property_value("entity id", e)
            if ids:
                mentions.append([run.qid, ids])
            for name, rec in run.agents.items():
                agents.setdefault(name)
                edge = {p: getattr(rec, f) for f, p in _PERFORMED_PROPS.items() if getattr(rec, f) is not None}
                performed.append([run.qid, name, clean_props(edge, skip=())])
        queries, performed = _last_wins(queries, 1), _last_wins(performed, 2)
        plan = self._plan("UNWIND $rows AS row MERGE (q:Query {id: row[0]}) SET q += row[1]", queries)
        plan += self._plan("UNWIND $rows AS id MERGE (:Agent {id: id})", list(agents))
        plan += self._plan(
            "UNWIND $rows AS row MATCH (q:Query {id: row[0]}) UNWIND row[1] AS eid "
            "MERGE (e:Entity {id: eid}) MERGE (q)-[:MENTIONS {kind: ''}]->(e)",
            mentions,
        )
        plan += self._plan(
            "UNWIND $rows AS row MATCH (q:Query {id: row[0]}) MATCH (a:Agent {id: row[1]}) "
            "MERGE (q)-[r:PERFORMED {kind: ''}]->(a) SET r += row[2]",
            performed,
        )
        self._write(plan)

    def delete_query(self, id: str) -> bool:
        rows = self._write_one(
            "MATCH (q:Query {id: $id}) WITH q, q.id AS qid DETACH DELETE q RETURN count(qid) AS n", {"id": str(id)}
        )
        return bool(rows and rows[0]["n"])

    def clear(self) -> None:
        """Delete this store's nodes (labels Query, Entity, Agent) and their relationships, in batches."""
        for label in NODE_LABELS:
            query = f"MATCH (n:{label}) WITH n LIMIT {_CLEAR_BATCH} DETACH DELETE n RETURN count(*) AS deleted"
            while (rows := self._write_one(query, {})) and rows[0]["deleted"]:
                pass

    def ensure_vector_index(self, dim: int, label: NodeLabel = "Query", prop: str = "vec") -> bool:
        """A cosine vector index on ``label.prop`` (idempotent) where the server has them; False where not."""
        self._ensure_schema()
        return self._dialect.ensure_vector_index(self._run_auto, _label(label), prop, dim)

    # -- reads ------------------------------------------------------------------------------------------

    def get_node(self, label: NodeLabel, id: str) -> dict[str, Any] | None:
        rows = self._read(f"MATCH (n:{_label(label)} {{id: $id}}) RETURN properties(n) AS p", {"id": str(id)})
        return dict(rows[0]["p"]) if rows else None

    def nodes(self, label: NodeLabel) -> list[dict[str, Any]]:
        rows = self._read(f"MATCH (n:{_label(label)}) RETURN properties(n) AS p", {})
        return sorted((dict(r["p"]) for r in rows), key=lambda p: str(p.get("id", "")))

    def edges(self, rel: RelType, src: str | None = None, dst: str | None = None) -> list[dict[str, Any]]:
        rel_, s, d = _rel(rel)
        a = f"(a:{s} {{id: $src}})" if src is not None else f"(a:{s})"
        b = f"(b:{d} {{id: $dst}})" if dst is not None else f"(b:{d})"
        params = {k: str(v) for k, v in (("src", src), ("dst", dst)) if v is not None}
        rows = self._read(f"MATCH {a}-[r:{rel_}]->{b} RETURN a.id AS src, b.id AS dst, properties(r) AS p", params)
        out = [_edge_row(r["src"], r["dst"], r["p"]) for r in rows]
        return sorted(out, key=lambda e: (e["src"], e["dst"], str(e.get("kind", ""))))

    def neighbourhood(self, entity_ids: Sequence[str]) -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(str(e) for e in entity_ids))
        query = (
            "UNWIND $rows AS eid MATCH (e:Entity {id: eid})-[r:RELATED|COVERS]-(x) "
            "RETURN type(r) AS rel, startNode(r).id AS src, endNode(r).id AS dst, properties(r) AS p"
        )
        seen: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        for q, params in self._plan(query, ids):
            for r in self._read_encoded(q, params):
                key = (r["rel"], r["src"], r["dst"], str(r["p"].get("kind", "")))
                seen.setdefault(key, {"rel": r["rel"], **_edge_row(r["src"], r["dst"], r["p"])})
        return [seen[k] for k in sorted(seen)]

    def history(self) -> Iterator[RunRecord]:
        rows = self._read(
            "MATCH (q:Query)-[r:PERFORMED]->(a:Agent) WITH q, collect({agent: a.id, p: properties(r)}) AS perf "
            "RETURN properties(q) AS q, perf",
            {},
        )
        runs = []
        for row in rows:
            q = row["q"]
            agents = {
                p["agent"]: AgentRecord(**{f: p["p"][k] for f, k in _PERFORMED_PROPS.items() if k in p["p"]})
                for p in row["perf"]
            }
            runs.append(
                RunRecord(
                    qid=q["id"],
                    question=q.get("text", ""),
                    dataset=q.get("dataset"),
                    split=q.get("split"),
                    gold=q.get("gold"),
                    agents=agents,
                )
            )
        runs.sort(key=lambda r: r.qid)
        return iter(runs)

    def counts(self) -> dict[str, int]:
        statements = [(k, f"MATCH (n:{k}) RETURN count(n) AS c") for k in NODE_LABELS]
        statements += [(k, f"MATCH ()-[r:{k}]->() RETURN count(r) AS c") for k in ENDPOINTS]
        with self._connection_kept(), self._session(read=True) as session:
            return {k: int(session.run(q).single(strict=True)["c"]) for k, q in statements}

    def close(self) -> None:
        self._close_driver()

    # -- plumbing ---------------------------------------------------------------------------------------

    def _plan(self, query: str, rows: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        """``query`` with ``$rows`` split into batches of at most ``batch_size`` rows that each fit the
        dialect's statement size; a single row too large to fit is refused before anything is written."""
        limit = self._dialect.max_statement_bytes
        if limit is None:
            return [(query, {"rows": rows[i : i + self.batch_size]}) for i in range(0, len(rows), self.batch_size)]
        base = len(query.encode()) + 16  # the query and "CYPHER rows=[] "
        plan: list[tuple[str, dict[str, Any]]] = []
        batch: list[Any] = []
        size = base
        for row in rows:
            enc, n = self._dialect.encode_sized(row)
            n += 2  # ", " between items
            if base + n > limit:
                raise ValueError(
                    f"a row of about {n} bytes does not fit one statement on {self._dialect.name} "
                    f"(limit {limit} bytes); shorten the text or use Neo4j"
                )
            if batch and (size + n > limit or len(batch) >= self.batch_size):
                plan.append((query, {"rows": batch}))
                batch, size = [], base
            batch.append(enc)
            size += n
        if batch:
            plan.append((query, {"rows": batch}))
        return plan

    @contextlib.contextmanager
    def _connection_kept(self) -> Iterator[None]:
        """A server that goes away mid-run (killed, restarted, network cut) is one clear error: writes are
        idempotent MERGEs, so re-running the same command completes the store without duplicates."""
        try:
            yield
        except (ServiceUnavailable, SessionExpired) as e:
            raise StoreConnectionError(
                f"graph store {self.uri}: lost the connection to the server ({_one_line(e)}); "
                "re-run the same command to complete the store (writes are idempotent)"
            ) from None

    def _session(self, read: bool = False) -> neo4j.Session:
        """Reads in read mode (replicas in a cluster), sharing the store's bookmarks so they see its writes."""
        if self._driver is None:
            raise RuntimeError(f"graph store {self.uri} is closed")
        if self._dialect.read_mode_sessions:
            mode = neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS
            return self._driver.session(
                database=self.database, default_access_mode=mode, bookmark_manager=self._bookmarks
            )
        return self._driver.session(database=self.database)

    def _ensure_schema(self) -> None:
        """The id constraints and indexes, created before the first write, not on open: opening a store
        to read it (``kg stats``, ``ask``) must not change the user's database."""
        with self._schema_lock:
            if not self._schema_ready:
                self._dialect.ensure_schema(self._run_auto)
                self._schema_ready = True

    def _write(self, plan: list[tuple[str, dict[str, Any]]]) -> None:
        """Run a plan's statements in one managed write transaction (atomic where the server has them)."""
        if not plan:
            return
        self._ensure_schema()

        def work(tx: neo4j.ManagedTransaction) -> None:
            for query, params in plan:
                tx.run(query, params).consume()

        with self._connection_kept(), self._session() as session:
            session.execute_write(work)

    def _write_one(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        enc = self._dialect.prepare(query, params)
        self._ensure_schema()

        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return tx.run(query, enc).data()

        with self._connection_kept(), self._session() as session:
            return session.execute_write(work)

    def _read(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._read_encoded(query, self._dialect.prepare(query, params))

    def _read_encoded(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """One auto-commit query in a read-mode session (params already passed through the dialect)."""
        with self._connection_kept(), self._session(read=True) as session:
            return session.run(query, params).data()

    def _verify_connectivity(self) -> None:
        """The driver's check, tried once more if a Bolt handshake then gets answered: FalkorDB leaves a slot
        stale after another client's GOODBYE (cypher_dialect difference 9), and the first try can land on it."""
        try:
            self._driver.verify_connectivity()
        except ServiceUnavailable:
            if not clear_stale_bolt_slot(self._host, self._port):
                raise
            self._driver.verify_connectivity()

    def _run_auto(self, query: str) -> list[dict[str, Any]]:
        with self._session() as session:
            return session.run(query).data()

    def _close_driver(self, clear_slot: bool = False) -> None:
        driver = getattr(self, "_driver", None)
        if driver is None:
            return
        self._driver = None  # type: ignore[assignment]
        driver.close()
        if clear_slot:
            clear_stale_bolt_slot(self._host, self._port)
        else:
            self._dialect.after_close(self._host, self._port)

    def _explain(self, e: BaseException, user: str | None) -> str:
        """One line saying what went wrong (the password never appears: the driver's messages lack it)."""
        if isinstance(e, AuthError):
            return f"the server refused the login for user {user!r} ({_one_line(e)})"
        if isinstance(e, ClientError) and "DatabaseNotFound" in (e.code or ""):
            return f"database {self.database!r} does not exist ({_one_line(e)})"
        if isinstance(e, ServiceUnavailable):
            return f"server unreachable ({_one_line(e)})"
        if isinstance(e, (Neo4jError, DriverError)):
            hint = " (if this is FalkorDB: its Bolt endpoint takes no credentials)" if user else ""
            return f"{type(e).__name__}: {_one_line(e)}{hint}"
        return f"{type(e).__name__}: {_one_line(e)}"
