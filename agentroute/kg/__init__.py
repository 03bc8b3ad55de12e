"""The query knowledge graph: entity extraction, embedders, graph stores, the query graph builder, ingest.

Names are imported on first use, so importing one part (say the store protocol) does not load the others.
"""

from __future__ import annotations

from agentroute.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "QueryGraphBuilder": "agentroute.kg.builder",
    "Embedder": "agentroute.kg.embed",
    "HashingEmbedder": "agentroute.kg.embed",
    "SentenceTransformerEmbedder": "agentroute.kg.embed",
    "NumpyMiniLMEmbedder": "agentroute.kg.minilm",
    "make_embedder": "agentroute.kg.embed",
    "register_embedder": "agentroute.kg.embed",
    "Entity": "agentroute.kg.extract",
    "EntityExtractor": "agentroute.kg.extract",
    "HeuristicExtractor": "agentroute.kg.extract",
    "SpacyExtractor": "agentroute.kg.extract",
    "make_extractor": "agentroute.kg.extract",
    "register_extractor": "agentroute.kg.extract",
    "ingest_records": "agentroute.kg.ingest",
    "GraphStore": "agentroute.kg.store",
    "open_store": "agentroute.kg.store",
    "register_store": "agentroute.kg.store",
    "NetworkXStore": "agentroute.kg.stores.networkx_store",
    "StoreFileError": "agentroute.kg.stores.networkx_store",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
