"""Embed a benchmark's texts once, in worker processes, for folds that run in their own processes.

Why: ``bench run --jobs N`` gives every fold a fresh process, and every fold embeds all the log's questions
(the training fold as history, the test fold as queries) and the entities they mention. With MiniLM that is
~8 minutes a fold on MoRE, five times over on a 5-fold run. Here those texts are embedded once, split over
the same number of processes, and each fold's embedder looks them up. The figures cannot change: an
``Embedder`` gives a text the same vector whatever else it embeds with it (the protocol's promise, which
every built-in one keeps), and an ``EntityExtractor`` gives a text the same entities.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from agentroute.bench.fold_pool import run_in_processes
from agentroute.kg.embed import Embedder, make_embedder
from agentroute.kg.extract import EntityExtractor, HeuristicExtractor


class PrecomputedEmbedder:
    """``inner``, with the vectors of some texts already computed: those are looked up, others embedded."""

    def __init__(self, inner: Embedder, vectors: dict[str, np.ndarray]) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.vectors = vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = [i for i, t in enumerate(texts) if t not in self.vectors]
        for i, text in enumerate(texts):
            if text in self.vectors:
                out[i] = self.vectors[text]
        if missing:
            out[missing] = self.inner.embed([texts[i] for i in missing])
        return out

    def config(self) -> dict[str, Any]:
        return self.inner.config()


def texts_to_embed(questions: Sequence[str], extractor: EntityExtractor | None = None) -> list[str]:
    """What a fold's query-graph builder embeds: the questions and the ids of the entities they mention
    (``extractor``: the builder's, by default the heuristic one)."""
    found = extractor if extractor is not None else HeuristicExtractor()
    return list(dict.fromkeys([*questions, *(e.id for q in questions for e in found.extract(q))]))


def _embed_part(plan: tuple[str, list[list[str]]], part: int, _emit: Callable[[Any], None]) -> tuple[int, np.ndarray]:
    name, parts = plan
    return part, make_embedder(name).embed(parts[part]).astype(np.float32, copy=False)


def embed_in_processes(name: str, texts: Sequence[str], jobs: int) -> dict[str, np.ndarray]:
    """Each distinct text's vector under ``make_embedder(name)``, the texts split over ``jobs`` processes."""
    unique = list(dict.fromkeys(texts))
    parts = [unique[i::jobs] for i in range(jobs)]
    vectors: dict[str, np.ndarray] = {}
    for part, matrix in run_in_processes(_embed_part, (name, parts), range(jobs), jobs, lambda _event: None):
        vectors.update(zip(parts[part], matrix, strict=True))
    return vectors
