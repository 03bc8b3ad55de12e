"""Final-answer extraction from free LLM text, and answer scoring against gold (EM, F1, numeric, choice).

Why: LLMs wrap answers in reasoning, markdown and boilerplate; QA benchmarks score a short answer. The
extractor tries, in order, ``\\boxed{…}``, an ``Answer:`` line, "the answer is …", a multiple-choice
letter (when the question offers lettered options) and finally the last short line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from agentroute.normalize import exact_match, f1, normalize_answer

# after "Answer:" only spaces and markdown marks go: "-5", ".5" and "(B)" keep their first character
_ANSWER_LINE = re.compile(r"^\W*(?:final\s+)?answer\s*[:：][\s*_`]*(.*)$", re.IGNORECASE)
_ANSWER_ANY = re.compile(r"\banswer[ \t]*[:：][ \t]*(\S.*)$", re.IGNORECASE | re.MULTILINE)  # on its own line
_ANSWER_IS = re.compile(r"\bthe\s+(?:final\s+)?answer\s+is\s*[:：]?\s*(.+?)(?:\.\s|\.?$)", re.IGNORECASE)
#: "the answer is ..." followed by a judgement of an answer, not by one ("the answer is indeed correct")
_NOT_AN_ANSWER = re.compile(
    r"^(?:indeed|correct|incorrect|right|wrong|not|as\s+follows|below|above|clearly|also|that|this)\b", re.IGNORECASE
)
_OPTION = re.compile(r"(?:^|\n)\s*\(?([A-Ea-e])[).:]\s+\S")
_INLINE_OPTION = re.compile(r"(?:^|\s)\(?([A-E])\)\s+\S")  # "A) car B) apple" on one line: ")" only
_LETTER = re.compile(r"^\(?([A-Ea-e])\)?(?:[).:]|\s|$)")
_NUMBER = re.compile(r"[-+]?\$?\d[\d,]*(?:\.\d+)?")
_FILLER = re.compile(r"^(?:so|thus|therefore|hence)?,?\s*(?:the\s+(?:final\s+)?answer\s+is\s*:?\s*)", re.IGNORECASE)


def boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{…}`` (nested braces allowed), or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i, depth = start + len("\\boxed{"), 1
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j].strip()
    return None


def has_options(question: str) -> bool:
    """True when the question lists at least two lettered options (``A) …`` / ``(B) …`` / ``C. …`` each on
    a line, or ``A) … B) …`` within one)."""
    found = {m.upper() for m in _OPTION.findall(question)} | set(_INLINE_OPTION.findall(question))
    return len(found) >= 2


def _clean(answer: str) -> str:
    answer = answer.strip().strip("*_`").strip()
    answer = _FILLER.sub("", answer).strip()
    if answer.endswith(".") and not _NUMBER.fullmatch(answer):
        answer = answer[:-1]
    return answer.strip().strip("\"'“”").strip()


def extract_answer(text: str, question: str = "", short: bool = True) -> str:
    """The final answer in ``text``. ``short``: reduce it to a short answer (a letter for multiple-choice
    questions); otherwise a found ``Answer:`` is returned with everything after it on that line."""
    text = (text or "").strip()
    if not text:
        return ""
    found = boxed(text)
    if found is None:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        for line in reversed(lines):
            m = _ANSWER_LINE.match(line.strip())
            if m and m.group(1).strip():
                found = m.group(1)
                break
    if found is None:
        matches = _ANSWER_ANY.findall(text) or [m for m in _ANSWER_IS.findall(text) if not _NOT_AN_ANSWER.match(m)]
        found = matches[-1] if matches else None
    if found is None:
        if not short:
            return text
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        lines = [ln for ln in lines if not _NOT_AN_ANSWER.match(_FILLER.sub("", ln))] or lines
        short_lines = [ln for ln in lines if len(ln.split()) <= 12]
        found = (short_lines or lines)[-1]
    answer = _clean(found) if short else found.strip()
    if short and question and has_options(question):
        m = _LETTER.match(answer)
        if m:
            return m.group(1).upper()
    return answer


def _numbers(text: str) -> list[float]:
    out = []
    for tok in _NUMBER.findall(text or ""):
        try:
            out.append(float(tok.replace(",", "").replace("$", "")))
        except ValueError:
            continue
    return out


def numeric_match(pred: str | None, golds: Sequence[str]) -> float:
    """1.0 when the last number in ``pred`` equals a gold number (relative tolerance 1e-6)."""
    got = _numbers(pred or "")
    if not got:
        return 0.0
    for g in golds:
        want = _numbers(g)
        if want and abs(got[-1] - want[-1]) <= 1e-6 * max(1.0, abs(want[-1])):
            return 1.0
    return 0.0


def choice_match(pred: str | None, golds: Sequence[str]) -> float:
    """1.0 when the multiple-choice letter in ``pred`` equals a gold letter."""
    m = _LETTER.match((pred or "").strip())
    return float(m is not None and any(m.group(1).upper() == g.strip().strip("()").upper() for g in golds))


def auto_score(pred: str | None, golds: Sequence[str]) -> float:
    """Choice accuracy when gold is a letter, numeric match when gold is a number, else exact match."""
    if golds and all(_LETTER.fullmatch(g.strip()) for g in golds):
        return choice_match(pred, golds)
    if golds and all(_NUMBER.fullmatch(normalize_answer(g).replace(" ", "")) for g in golds):
        return max(exact_match(pred, golds), numeric_match(pred, golds))
    return exact_match(pred, golds)


SCORERS: dict[str, Callable[[str | None, Sequence[str]], float]] = {
    "em": exact_match,
    "f1": f1,
    "numeric": numeric_match,
    "choice": choice_match,
    "auto": auto_score,
}


def make_scorer(name: str) -> Callable[[str | None, Sequence[str]], float]:
    if name not in SCORERS:
        raise ValueError(f"--metric {name!r}: expected one of {', '.join(SCORERS)}")
    return SCORERS[name]
