"""Loading run records (routing logs, profile runs) into a graph store, in batches.

Each record becomes a Query node, MENTIONS edges to its extracted entities (Entity nodes carry their
surface text and kind, so the query graph builder can label neighbours), Agent nodes and PERFORMED edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import combinations, islice

from agentroute.kg.extract import Entity, EntityExtractor, HeuristicExtractor
from agentroute.kg.store import GraphStore
from agentroute.types import AgentSpec, RunRecord

#: Entity kinds linked by ``link_entities`` (content words would make the graph dense and meaningless).
_LINKED_KINDS = frozenset({"span", "date", "quoted"})


def ingest_records(
    store: GraphStore,
    records: Iterable[RunRecord],
    extractor: EntityExtractor | None = None,
    agents: Sequence[AgentSpec] = (),
    batch_size: int = 500,
    link_entities: bool = False,
) -> dict[str, int]:
    """Write records to ``store`` via ``record_many``; returns counts written.

    ``agents`` (optional) adds each agent's description, skills and cost_per_call to its node; agents
    that only appear in records get bare nodes. With ``link_entities``, named entities (spans, dates,
    quotes) mentioned by the same question get a ``RELATED`` edge of kind ``co_mention``, so the builder
    finds 1-hop neighbours. Counts: ``queries`` (records), ``entities`` and ``agents`` (distinct),
    ``relationships`` (MENTIONS + PERFORMED + RELATED rows written).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    extractor = extractor if extractor is not None else HeuristicExtractor()
    agent_names: set[str] = set()
    entity_ids: set[str] = set()
    n_queries = n_rels = 0
    if agents:
        store.upsert_nodes(
            "Agent",
            [
                {"id": a.name, "description": a.description, "skills": list(a.skills), "cost_per_call": a.cost_per_call}
                for a in agents
            ],
        )
        agent_names.update(a.name for a in agents)
    it = iter(records)
    while batch := list(islice(it, batch_size)):
        mentions = [extractor.extract(r.question) for r in batch]
        new = {e.id: e for ents in mentions for e in ents if e.id not in entity_ids}
        if new:
            store.upsert_nodes("Entity", [{"id": e.id, "text": e.text, "kind": e.kind} for e in new.values()])
            entity_ids.update(new)
        store.record_many(batch, [[e.id for e in ents] for ents in mentions])
        n_queries += len(batch)
        n_rels += sum(len(ents) for ents in mentions) + sum(len(r.agents) for r in batch)
        for r in batch:
            agent_names.update(r.agents)
        if link_entities:
            n_rels += _link(store, mentions)
    return {"queries": n_queries, "entities": len(entity_ids), "agents": len(agent_names), "relationships": n_rels}


def _link(store: GraphStore, mentions: list[list[Entity]]) -> int:
    """RELATED(co_mention) between named entities of one question (both directions stored once)."""
    pairs: dict[tuple[str, str], None] = {}
    for ents in mentions:
        named = sorted({e.id for e in ents if e.kind in _LINKED_KINDS})
        pairs.update(dict.fromkeys(combinations(named, 2)))
    if not pairs:
        return 0
    return store.upsert_edges("RELATED", [{"src": a, "dst": b, "kind": "co_mention"} for a, b in pairs])
