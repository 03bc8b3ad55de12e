"""A query graph as plain JSON-ready data: what ``kg show`` prints and the server streams as its "graph" event."""

from __future__ import annotations

from typing import Any

from agentroute.types import QueryGraph


def graph_view(graph: QueryGraph) -> dict[str, Any]:
    """A query graph as plain JSON-ready data: entities, relations, agents, covers, similar past questions."""
    ents = graph.entities
    return {
        "query": graph.query.text,
        "entities": [
            {"id": e, "kind": k, "mentioned": i < graph.n_mentioned}
            for i, (e, k) in enumerate(zip(ents, graph.entity_kinds))
        ],
        "related": [[ents[i], ents[j], kind] for i, j, kind in graph.related],
        "agents": graph.agent_names,
        "covers": [[graph.agents[a].name, ents[e]] for a, e in graph.covers],
        "similar": [
            {"id": p.id, "text": p.text, "similarity": round(p.similarity, 4), "scores": p.scores}
            for p in graph.similar
        ],
    }
