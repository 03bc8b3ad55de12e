"""``bench run --jobs N`` embeds a log's questions once, split over worker processes, and each fold looks
them up: the vectors must be the very ones the fold would have computed itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agentroute.bench.embed_once import PrecomputedEmbedder, embed_in_processes, texts_to_embed
from agentroute.bench.replay import agent_order, build_fold
from agentroute.kg.embed import make_embedder
from agentroute.testing.routing_log import synthetic_routing_log
from agentroute.types import AgentSpec


class Counting:
    """The hashing embedder, remembering every text it was asked to embed."""

    def __init__(self) -> None:
        self.inner = make_embedder("hashing")
        self.dim = self.inner.dim
        self.asked: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.asked += texts
        return self.inner.embed(texts)

    def config(self) -> dict[str, Any]:
        return self.inner.config()


def test_precomputed_texts_are_looked_up_and_only_the_others_are_embedded() -> None:
    hashing = make_embedder("hashing")
    known = ["Who wrote Hamlet?", "What is 2 + 2?"]
    counting = Counting()
    emb = PrecomputedEmbedder(counting, dict(zip(known, hashing.embed(known), strict=True)))
    texts = ["What is 2 + 2?", "Paris", "Who wrote Hamlet?", "Paris"]

    vectors = emb.embed(texts)

    assert vectors.dtype == np.float32 and vectors.shape == (4, hashing.dim)
    np.testing.assert_array_equal(vectors, hashing.embed(texts))
    assert counting.asked == ["Paris", "Paris"]
    assert emb.config() == hashing.config() and emb.dim == hashing.dim
    assert emb.embed([]).shape == (0, hashing.dim)


def test_texts_embedded_in_worker_processes_equal_those_of_this_process() -> None:
    texts = [f"question {i} about {w}?" for i, w in enumerate(["rivers", "kings", "primes"] * 5)] + [
        "question 0 about rivers?"
    ]

    vectors = embed_in_processes("hashing", texts, jobs=2)

    assert sorted(vectors) == sorted(set(texts))
    here = make_embedder("hashing")
    for text, vec in vectors.items():
        np.testing.assert_array_equal(vec, here.embed([text])[0])


def test_a_fold_built_on_precomputed_texts_embeds_nothing_but_the_agents() -> None:
    records = synthetic_routing_log(60, seed=3)
    agents = [AgentSpec(name=a) for a in agent_order(records)]
    questions = [r.question for r in records]
    counting = Counting()
    precomputed = embed_in_processes("hashing", texts_to_embed(questions), jobs=1)

    fold = build_fold(records[:40], records[40:], agents, PrecomputedEmbedder(counting, precomputed))

    assert set(counting.asked) == {a.profile_text() for a in agents}
    reference = build_fold(records[:40], records[40:], agents, make_embedder("hashing"))
    for mine, theirs in zip(fold.graphs, reference.graphs, strict=True):
        assert mine.entities == theirs.entities and mine.similar == theirs.similar
        for field in ("query_vec", "entity_vecs", "agent_vecs", "past_vecs"):
            np.testing.assert_array_equal(getattr(mine, field), getattr(theirs, field))
