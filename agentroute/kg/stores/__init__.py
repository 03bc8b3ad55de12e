"""Built-in graph store backends by URL scheme (``kg/store.py`` registers these factories lazily)."""

from __future__ import annotations

from agentroute.kg.store import GraphStore


def networkx_from_url(url: str) -> GraphStore:
    from agentroute.kg.stores.networkx_store import NetworkXStore

    if url == "memory":
        return NetworkXStore()
    return NetworkXStore(path=url.split(":", 1)[1])


def neo4j_from_url(url: str) -> GraphStore:
    from agentroute.kg.stores.neo4j_store import Neo4jStore

    return Neo4jStore.from_url(url)
