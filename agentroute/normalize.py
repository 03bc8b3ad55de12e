"""Answer normalisation and the EM / F1 metrics used by voting and evaluation."""

from __future__ import annotations

import functools
import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = frozenset({"a", "an", "the"})
_PUNCT = str.maketrans("", "", string.punctuation)
_NUMBER = re.compile(r"^[-+]?\$?\d[\d,]*(\.\d+)?%?$")


def _token(token: str) -> str:
    """Numbers are canonicalised ('1,200.50' -> '1200.5', '3.0' -> '3'); other tokens lose punctuation."""
    bare = token.strip(".,;:!?()[]\"'")
    if _NUMBER.match(bare):
        digits = bare.replace(",", "").replace("$", "").rstrip("%")
        value = float(digits)
        return str(int(value)) if value.is_integer() else f"{value:.6f}".rstrip("0").rstrip(".")
    return token.translate(_PUNCT)


@functools.lru_cache(maxsize=4096)  # votes normalise the same few answers again for every pending agent
def normalize_answer(text: str | None) -> str:
    """Lowercase, drop punctuation and articles, canonicalise numbers, squeeze whitespace."""
    if not text:
        return ""
    tokens = [t for t in (_token(t) for t in text.lower().split()) if t]
    kept = [t for t in tokens if t not in _ARTICLES]
    # An answer that is only an article is a real answer (e.g. multiple-choice "A"), not an empty one.
    return " ".join(kept or tokens)


def exact_match(pred: str | None, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer (``normalize_answer``), else 0.0."""
    p = normalize_answer(pred)
    return float(bool(p) and any(p == normalize_answer(g) for g in golds))


def f1(pred: str | None, golds: Sequence[str]) -> float:
    """The best token-overlap F1 of the normalised prediction against any gold answer (SQuAD's metric)."""
    ptoks = normalize_answer(pred).split()
    best = 0.0
    for g in golds:
        gtoks = normalize_answer(g).split()
        common = Counter(ptoks) & Counter(gtoks)
        overlap = sum(common.values())
        if overlap == 0:
            continue
        prec, rec = overlap / len(ptoks), overlap / len(gtoks)
        best = max(best, 2 * prec * rec / (prec + rec))
    return best
