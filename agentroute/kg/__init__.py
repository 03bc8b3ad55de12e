"""The query knowledge graph: entity extraction, embedders, graph stores, the query graph builder, ingest."""

from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.embed import Embedder, HashingEmbedder, SentenceTransformerEmbedder, make_embedder
from agentroute.kg.extract import Entity, EntityExtractor, HeuristicExtractor, SpacyExtractor, make_extractor
from agentroute.kg.ingest import ingest_records
from agentroute.kg.store import GraphStore, open_store, register_store
from agentroute.kg.stores.networkx_store import NetworkXStore, StoreFileError

__all__ = [
    "Embedder",
    "Entity",
    "EntityExtractor",
    "GraphStore",
    "HashingEmbedder",
    "HeuristicExtractor",
    "NetworkXStore",
    "QueryGraphBuilder",
    "SentenceTransformerEmbedder",
    "SpacyExtractor",
    "StoreFileError",
    "ingest_records",
    "make_embedder",
    "make_extractor",
    "open_store",
    "register_store",
]
