"""Small query graphs for the LLM router tests (no store, no embedder)."""

from __future__ import annotations

import numpy as np

from agentroute.types import AgentSpec, PastQuery, Query, QueryGraph

SPECS = [
    AgentSpec(name="math", description="Does arithmetic and unit conversions.", skills=["arithmetic"]),
    AgentSpec(name="trivia", description="Knows facts about people, places and books."),
    AgentSpec(name="web:search", description="Searches the web for recent events.", cost_per_call=0.002),
]


def llm_graph(
    text: str = "What is 12 times 7?",
    specs: list[AgentSpec] = SPECS,
    similar: list[PastQuery] | None = None,
    entities: list[tuple[str, str]] = (),
    qid: str = "q1",
) -> QueryGraph:
    similar = similar or []
    dim = 4
    return QueryGraph(
        query=Query(id=qid, text=text),
        query_vec=np.zeros(dim, dtype=np.float32),
        entities=[e for e, _ in entities],
        entity_kinds=[k for _, k in entities],
        n_mentioned=len(entities),
        entity_vecs=np.zeros((len(entities), dim), dtype=np.float32),
        related=[],
        agents=list(specs),
        agent_vecs=np.zeros((len(specs), dim), dtype=np.float32),
        covers=[],
        similar=similar,
        past_vecs=np.zeros((len(similar), dim), dtype=np.float32),
    )
