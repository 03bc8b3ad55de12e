"""``bench run --jobs N`` embeds a log's questions once, split over worker processes, and each fold looks
them up: the vectors must be the very ones the fold would have computed itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agentroute.bench.embed_once import PrecomputedEmbedder, embed_in_processes
from agentroute.kg.embed import make_embedder


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
