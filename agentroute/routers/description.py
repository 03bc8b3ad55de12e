"""``DescriptionRouter``: route by what the agents say about themselves, with no history at all.

Why: a user's own pool starts with an empty store, and a learned router that has never seen an agent
score can only guess (uniform probabilities sent geography questions to an adder). What is known on day
one is each agent's description and skills, so this router scores them against the question: the cosine
between the question's embedding and the agent's (the graph builder embeds ``AgentSpec.profile_text()``,
offline with the default hashing embedder) plus the words they share (light stemming, so "poems" meets
"poem"). Numbers and dates in the question also count as the words "number"/"date" (a question of digits
shares no word with "adds numbers"). It is the cold-start path of every history-based router
(``routers/coldstart.py``) and can be used on its own: ``make_router("description")``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from agentroute.routers.base import BaseRouter, normalise, select_top_k
from agentroute.types import AgentSpec, QueryGraph, RoutingDecision

_TOKEN = re.compile(r"[^\W_]+")
#: Words an entity kind stands for: a question made of digits talks about numbers without saying so.
KIND_TERMS: dict[str, tuple[str, ...]] = {
    "number": ("number", "arithmetic", "math"),
    "date": ("date", "day", "calendar"),
}


def stem(word: str) -> str:
    """Plural and third-person endings off ("countries" -> "country", "poems" -> "poem")."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def agent_terms(spec: AgentSpec) -> frozenset[str]:
    """Stemmed words of an agent's name, description and skills."""
    text = " ".join((spec.name.replace("-", " ").replace("_", " "), spec.description, *spec.skills))
    return frozenset(stem(t) for t in _TOKEN.findall(text))


def query_terms(graph: QueryGraph) -> frozenset[str]:
    """Stemmed words of the entities the question mentions, plus the words their kinds stand for."""
    terms: set[str] = set()
    for eid, kind in zip(graph.entities[: graph.n_mentioned], graph.entity_kinds, strict=False):
        terms.update(KIND_TERMS.get(kind, ()))
        if kind not in KIND_TERMS:
            terms.update(stem(t) for t in _TOKEN.findall(eid))
    return frozenset(terms)


def description_scores(graph: QueryGraph, lexical_weight: float = 1.0) -> dict[str, float]:
    """Per candidate agent: cosine(question, agent profile) + ``lexical_weight`` x shared-word overlap."""
    q_terms = query_terms(graph)
    scale = math.sqrt(len(q_terms)) if q_terms else 1.0
    scores: dict[str, float] = {}
    for i, spec in enumerate(graph.agents):
        cosine = 0.0
        if len(graph.agent_vecs) > i and len(graph.query_vec):
            cosine = float(graph.query_vec @ graph.agent_vecs[i])
        shared = len(q_terms & agent_terms(spec))
        scores[spec.name] = cosine + lexical_weight * shared / scale
    return scores


def softmax(values: Mapping[str, float], temperature: float) -> dict[str, float]:
    if not values:
        return {}
    top = max(values.values())
    t = max(temperature, 1e-6)
    return normalise({a: math.exp((v - top) / t) for a, v in values.items()})


class DescriptionRouter(BaseRouter):
    """Agents ranked by how well their description and skills match the question (no training)."""

    name = "description"
    learns_from_history = False
    nonblocking = True

    def __init__(self, seed: int = 0, k: int = 1, temperature: float = 0.1, lexical_weight: float = 1.0) -> None:
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0 (got {temperature})")
        self.k, self.temperature, self.lexical_weight = k, temperature, lexical_weight

    def probs(self, graph: QueryGraph) -> dict[str, float]:
        return softmax(description_scores(graph, self.lexical_weight), self.temperature)

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        probs = self.probs(graph)
        top = ", ".join(f"{a} {probs[a]:.2f}" for a in sorted(probs, key=lambda a: (-probs[a], a))[:3])
        return RoutingDecision(
            router=self.name,
            probs=probs,
            selected=select_top_k(probs, k or self.k) if probs else [],
            rationale=f"by description: {top}",
        )
