"""Built-in graph store backends, registered by URL scheme (imported lazily by ``open_store``)."""

from __future__ import annotations

from agentroute.kg.store import GraphStore, register_store


def _networkx(url: str) -> GraphStore:
    from agentroute.kg.stores.networkx_store import NetworkXStore

    if url == "memory":
        return NetworkXStore()
    return NetworkXStore(path=url.split(":", 1)[1])


def _neo4j(url: str) -> GraphStore:
    from agentroute.kg.stores.neo4j_store import Neo4jStore

    return Neo4jStore.from_url(url)


register_store("memory", _networkx)
register_store("file", _networkx)
for _scheme in ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"):
    register_store(_scheme, _neo4j)
