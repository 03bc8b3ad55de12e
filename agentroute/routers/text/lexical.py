"""A TF-IDF lexicon of word unigrams and bigrams, fitted on the training questions.

Why: a small hashed embedding (what the graph builder gives by default) blurs many words into one
bucket, and which agent suits a question is often carried by a handful of words ("how many", "which
film", a unit, a function name). The router therefore reads the question text a second time through its
own lexicon: sparse TF-IDF weights that feed a learned ``EmbeddingBag`` on the query node (``model.py``).
It is fitted on training questions only, is case-sensitive (case is a cue), and round-trips through plain
lists for checkpoints.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from agentroute.unspaced import tokens_pattern

_TOKEN = re.compile(tokens_pattern(min_len=2))  # words of 2+ characters; Chinese/Japanese per character


@lru_cache(maxsize=32_768)  # every question of the largest shared log; bounded, process-wide
def terms_of(text: str) -> tuple[str, ...]:
    """Word unigrams and bigrams of ``text`` (tokens of two or more word characters, case kept)."""
    tokens = _TOKEN.findall(text)
    return tuple(tokens) + tuple(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))


class Lexicon:
    """Term -> column index with inverse document frequencies; encodes texts as L2-normalised TF-IDF."""

    def __init__(self, terms: Sequence[str] = (), idf: Sequence[float] = ()) -> None:
        if len(terms) != len(idf):
            raise ValueError(f"lexicon has {len(terms)} terms but {len(idf)} idf values")
        self.terms = list(terms)
        self.idf = np.asarray(idf, dtype=np.float32)
        self.index = {t: i for i, t in enumerate(self.terms)}

    def __len__(self) -> int:
        return len(self.terms)

    @classmethod
    def fit(cls, texts: Iterable[str], min_df: int = 2, max_terms: int = 50_000) -> Lexicon:
        """Keep terms seen in at least ``min_df`` texts (the ``max_terms`` most frequent), smoothed idf."""
        docs = list(texts)
        df: Counter[str] = Counter()
        for text in docs:
            df.update(set(terms_of(text)))
        kept = sorted((t for t, c in df.items() if c >= min_df), key=lambda t: (-df[t], t))[:max_terms]
        n = len(docs)
        return cls(kept, [math.log((1 + n) / (1 + df[t])) + 1.0 for t in kept])

    def encode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(column ids int64, weights float32): sublinear tf x idf, L2-normalised; empty when nothing is known."""
        counts = Counter(i for i in map(self.index.get, terms_of(text)) if i is not None)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids = np.fromiter(counts, dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        weights = (1.0 + np.log(tf)) * self.idf[ids]
        return ids, (weights / np.linalg.norm(weights)).astype(np.float32)

    def state(self) -> dict[str, Any]:
        """Plain containers for a checkpoint."""
        return {"terms": list(self.terms), "idf": [float(v) for v in self.idf]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Lexicon:
        return cls(state["terms"], state["idf"])
