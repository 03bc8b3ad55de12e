"""Export a whole graph store as JSON, GraphML or a Cypher script (``agentroute kg export``).

Works over the ``GraphStore`` protocol only, so every backend exports the same way.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import networkx as nx

from agentroute.kg.store import GraphStore
from agentroute.types import ENDPOINTS, NODE_LABELS


def snapshot(store: GraphStore) -> dict[str, Any]:
    """All nodes per label and all relationships per type, as plain data."""
    return {
        "nodes": {label: store.nodes(label) for label in NODE_LABELS},  # type: ignore[arg-type]
        "relationships": {rel: store.edges(rel) for rel in ENDPOINTS},  # type: ignore[arg-type]
    }


def to_json(store: GraphStore) -> str:
    return json.dumps(snapshot(store), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _scalar(value: Any) -> Any:
    """GraphML holds scalars only: lists are written as JSON text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


def to_graphml(store: GraphStore) -> str:
    snap = snapshot(store)
    g = nx.MultiDiGraph()
    for label, rows in snap["nodes"].items():
        for row in rows:
            g.add_node(f"{label}:{row['id']}", label=label, **{k: _scalar(v) for k, v in row.items()})
    for rel, rows in snap["relationships"].items():
        src_label, dst_label = ENDPOINTS[rel]
        for row in rows:
            props = {k: _scalar(v) for k, v in row.items() if k not in ("src", "dst")}
            g.add_edge(f"{src_label}:{row['src']}", f"{dst_label}:{row['dst']}", type=rel, **props)
    buf = io.BytesIO()
    nx.write_graphml(g, buf)
    return buf.getvalue().decode("utf-8")


def _cypher_value(value: Any) -> str:
    """A Cypher literal; JSON string escaping is valid Cypher string escaping."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_cypher_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _cypher_map(props: dict[str, Any]) -> str:
    return "{" + ", ".join(f"`{k.replace('`', '')}`: {_cypher_value(v)}" for k, v in sorted(props.items())) + "}"


def to_cypher(store: GraphStore) -> str:
    """A script of MERGE statements that rebuilds the store in Neo4j (values are escaped literals)."""
    snap = snapshot(store)
    lines = ["// agentroute graph export: run with cypher-shell or the Neo4j browser"]
    for label, rows in snap["nodes"].items():
        for row in rows:
            rest = {k: v for k, v in row.items() if k != "id"}
            lines.append(f"MERGE (n:{label} {{id: {_cypher_value(row['id'])}}}) SET n += {_cypher_map(rest)};")
    for rel, rows in snap["relationships"].items():
        src_label, dst_label = ENDPOINTS[rel]
        for row in rows:
            props = {k: v for k, v in row.items() if k not in ("src", "dst")}
            kind = _cypher_value(props.pop("kind", ""))
            lines.append(
                f"MATCH (a:{src_label} {{id: {_cypher_value(row['src'])}}}), "
                f"(b:{dst_label} {{id: {_cypher_value(row['dst'])}}}) "
                f"MERGE (a)-[r:{rel} {{kind: {kind}}}]->(b) SET r += {_cypher_map(props)};"
            )
    return "\n".join(lines) + "\n"


EXPORTERS: dict[str, Callable[[GraphStore], str]] = {"json": to_json, "graphml": to_graphml, "cypher": to_cypher}


def export(store: GraphStore, fmt: str) -> str:
    exporter = EXPORTERS.get(fmt)
    if exporter is None:
        raise ValueError(f"unknown export format {fmt!r}: expected one of {', '.join(EXPORTERS)}")
    return exporter(store)
