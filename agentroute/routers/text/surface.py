"""Surface features of a question's form: length, numerals, capitalisation, punctuation, leading word.

Why: which agent (or prompting strategy) suits a question depends a lot on its form — a long word
problem full of numbers wants arithmetic, a short lowercase "what/where" question wants common sense or
recall, a question with many capitalised names wants retrieval — and a small hashed bag of words blurs
exactly these cues. They are cheap, language-level signals, not tied to any dataset.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np

LEADING_WORDS: tuple[str, ...] = (
    "what", "who", "whom", "whose", "when", "where", "which", "how", "why",
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "would", "will", "if", "in", "the",
)  # fmt: skip
_NUMERIC = re.compile(r"\d")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_QUOTE = re.compile(r"[\"“”‘’']")
_N_BASE = 11
N_SURFACE = _N_BASE + len(LEADING_WORDS) + 1


def _surface(text: str) -> tuple[float, ...]:
    tokens = text.split()
    n = max(len(tokens), 1)
    numeric = sum(1 for t in tokens if _NUMERIC.search(t))
    capitalised = sum(1 for t in tokens[1:] if t[:1].isupper())
    stripped = text.rstrip()
    first = tokens[0].lower().strip("\"'“‘(¿¡") if tokens else ""
    base = (
        math.log1p(len(tokens)) / 4.0,
        math.log1p(len(text)) / 6.0,
        numeric / n,
        math.log1p(numeric) / 2.0,
        capitalised / n,
        float(stripped.endswith("?")),
        float(text[:1].islower()),
        math.log1p(len(_SENTENCE_END.findall(text))) / 2.0,
        (text.count(",") + text.count(";")) / n,
        float("$" in text or "%" in text or "=" in text),
        float(bool(_QUOTE.search(text))),
    )
    leading = tuple(float(first == w) for w in LEADING_WORDS)
    return base + leading + (float(first not in LEADING_WORDS),)


@lru_cache(maxsize=32_768)  # every question of the largest shared log; bounded, process-wide
def surface_features(text: str) -> np.ndarray:
    """(N_SURFACE,) float32 features of the question's form, roughly in [0, 1] (cached per text: read-only)."""
    out = np.asarray(_surface(text), dtype=np.float32)
    out.flags.writeable = False
    return out
