"""Writing systems without spaces between words (Chinese, Japanese), for the text readers that split words.

Why: a reader that takes runs of word characters as words reads a whole Chinese sentence as one "word",
so two questions that share most of their characters share nothing. Readers take each such character as a
token instead (neighbouring characters then make the bigrams). Korean is written with spaces: not here.
"""

from __future__ import annotations

#: CJK ideographs (with compatibility forms and extension A/B), hiragana, katakana, half-width katakana.
UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002a6df"


def tokens_pattern(min_len: int = 1) -> str:
    """A regex: one unspaced-script character, or a run of at least ``min_len`` other word characters."""
    return rf"[{UNSPACED}]|[^\W{UNSPACED}]{{{min_len},}}"
