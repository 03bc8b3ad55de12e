"""Entity extraction: a Protocol, the default heuristic extractor (no downloads) and a string resolver."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from agentroute.registry import Registry


@dataclass(frozen=True)
class Entity:
    """An entity mention. ``id`` is the normalised key shared with the graph store (lowercased, trimmed)."""

    id: str
    text: str
    kind: str  # "span" (capitalised span), "number", "date", "quoted", "word"


@runtime_checkable
class EntityExtractor(Protocol):
    """Finds the entities a question mentions.

    An implementer guarantees: the same text always gives the same entities (history and the current
    question must meet on the same ids), ids are normalised keys (lowercased, trimmed), and ``extract``
    is cheap and safe to call from several threads at once (graphs are built in parallel).
    """

    def extract(self, text: str) -> list[Entity]:
        """Entities in order of first appearance, de-duplicated by id."""
        ...


_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each either else ever every few for from further had hadn't has hasn't have haven't having he he'd
    he'll he's her here here's hers herself him himself his how how's however i i'd i'll i'm i've if in into
    is isn't it it's its itself just let's may me might more most much must mustn't my myself neither no nor
    not now of off on once one only or other ought our ours ourselves out over own per rather same shall
    shan't she she'd she'll she's should shouldn't since so some still such than that that's the their
    theirs them themselves then there there's these they they'd they'll they're they've this those though
    through thus to too under until up upon us very via was wasn't we we'd we'll we're we've were weren't
    what what's whatever when when's whenever where where's whereas wherever whether which while who who's
    whoever whom whose why why's will with within without won't would wouldn't yes yet you you'd you'll
    you're you've your yours yourself yourselves
    name list give tell find describe explain calculate compute determine identify answer question please
    true false many get got use used like
"""
#: Function words, question words and imperative openers: never entities on their own.
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())
#: Stripped from the start of a capitalised span only at the start of a sentence ("Three teenagers…").
_OPENER_TEXT = """
    one two three four five six seven eight nine ten eleven twelve twenty hundred thousand last next first
    another each every several
"""
_OPENERS: frozenset[str] = frozenset(_OPENER_TEXT.split())
_SENTENCE_END = frozenset(".!?:;\n\"'“‘(")

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_UPPER = r"A-ZÀ-ÖØ-Þ"
# an initial or abbreviation followed by another capitalised word ("J. K. Rowling", "St. Louis"), or a word
_CAPWORD = (
    rf"(?:(?:[{_UPPER}]|St|Mt|Ft|Dr|Mr|Mrs|Ms|Jr|Sr)\.(?=\s+[{_UPPER}])"
    rf"|[{_UPPER}](?:[\w&-]|['’]\w|\.(?=\w))*)"
)
_CONNECT = r"(?:of|the|de|des|la|le|del|della|da|di|du|von|van|der|den|y|&)"

# One scan, left to right; at a given position the first alternative that matches wins.
_PATTERN = re.compile(
    rf"""
    (?P<quoted>"(?P<q1>[^"\n]{{1,80}}?)"|“(?P<q2>[^”\n]{{1,80}}?)”|‘(?P<q3>[^’\n]{{1,80}}?)’
        |(?<![\w'’])'(?P<q4>[^'\n]{{1,80}}?)'(?![\w]))
    |(?P<iso>(?<![\w-])(?P<iy>\d{{4}})-(?P<im>\d{{1,2}})-(?P<id>\d{{1,2}})(?![\w-]))
    |(?P<mdy>\b(?P<m1>{_MONTH})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{{4}})\b)
    |(?P<dmy>\b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH})(?:,?\s+(?P<y2>\d{{4}}))?\b)
    |(?P<my>\b(?P<m3>{_MONTH})\s+(?P<y3>\d{{4}})\b)
    |(?P<number>(?<![\w.])-?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?(?:st|nd|rd|th|%)?(?![\w]))
    |(?P<span>{_CAPWORD}(?:(?:\s+{_CONNECT}){{0,2}}\s+{_CAPWORD})*)
    |(?P<word>(?<![\w'’-])[^\W\d_]{{3,}}(?:['’]s)?(?![\w'’-]))
    """,
    re.VERBOSE,
)
_YEAR = re.compile(r"^(?:1\d{3}|20\d{2})$")
_POSSESSIVE = re.compile(r"['’]s$")


def _month(text: str) -> int:
    return _MONTHS[text[:3].lower()]


def _date_id(year: str | None, month: int, day: str | None) -> str:
    """Dates share one canonical id whatever their spelling ("March 5, 2024" == "2024-03-05")."""
    parts = [year or "-", f"{month:02d}"]
    if day is not None:
        parts.append(f"{int(day):02d}")
    return "-".join(parts)


class HeuristicExtractor:
    """Regex-only extraction of names, numbers, dates, quotes and content words (fast, no downloads).

    ``max_words`` caps the lower-case content words (kind ``word``); other kinds are not capped.
    """

    def __init__(self, max_words: int = 8, words: bool = True) -> None:
        self.max_words = max_words
        self.words = words

    def extract(self, text: str) -> list[Entity]:
        out: dict[str, Entity] = {}
        n_words = 0
        for m in _PATTERN.finditer(text):
            kind = m.lastgroup
            if kind == "span":
                ent = self._span(m.group(), self._sentence_start(text, m.start()))
            elif kind == "word":
                if not self.words or n_words >= self.max_words:
                    continue
                word = _POSSESSIVE.sub("", m.group()).lower()
                if word in STOPWORDS or len(word) < 3:
                    continue
                ent = Entity(word, m.group(), "word")
            elif kind == "number":
                raw = m.group()
                value = raw.rstrip("stndrh%").replace(",", "")
                ent = Entity(value, raw, "date" if _YEAR.match(raw) else "number")
            elif kind == "quoted":
                inner = (m.group("q1") or m.group("q2") or m.group("q3") or m.group("q4") or "").strip()
                ent = Entity(" ".join(inner.lower().split()), inner, "quoted") if inner else None
            else:
                ent = self._date(m)
            if ent is None or ent.id in out:
                continue
            out[ent.id] = ent
            n_words += ent.kind == "word"
        return list(out.values())

    @staticmethod
    def _sentence_start(text: str, start: int) -> bool:
        i = start - 1
        while i >= 0 and text[i].isspace():
            i -= 1
        return i < 0 or text[i] in _SENTENCE_END

    @staticmethod
    def _span(raw: str, initial: bool) -> Entity | None:
        """Trim leading/trailing stopwords ("What", "The", "I"); nothing left means no entity."""
        words = raw.split()
        while words and (words[0].lower() in STOPWORDS or (initial and words[0].lower() in _OPENERS)):
            words.pop(0)
        while words and words[-1].lower().rstrip(".") in STOPWORDS:
            words.pop()
        if not words:
            return None
        words[-1] = _POSSESSIVE.sub("", words[-1]).rstrip(".")
        text = " ".join(words)
        return Entity(text.lower(), text, "span")

    @staticmethod
    def _date(m: re.Match[str]) -> Entity:
        raw = m.group()
        if m.lastgroup == "iso":
            return Entity(_date_id(m.group("iy"), int(m.group("im")), m.group("id")), raw, "date")
        if m.lastgroup == "mdy":
            return Entity(_date_id(m.group("y1"), _month(m.group("m1")), m.group("d1")), raw, "date")
        if m.lastgroup == "dmy":
            return Entity(_date_id(m.group("y2"), _month(m.group("m2")), m.group("d2")), raw, "date")
        return Entity(_date_id(m.group("y3"), _month(m.group("m3")), None), raw, "date")


_SPACY_KINDS = {
    "DATE": "date",
    "TIME": "date",
    "CARDINAL": "number",
    "QUANTITY": "number",
    "MONEY": "number",
    "PERCENT": "number",
    "ORDINAL": "number",
}


class SpacyExtractor:
    """Named entities from a spaCy pipeline (only when spaCy and the model are installed)."""

    def __init__(self, model: str = "en_core_web_sm") -> None:
        try:
            import spacy
        except ImportError as e:
            raise ImportError("SpacyExtractor needs spaCy: pip install spacy") from e
        try:
            self._nlp = spacy.load(model)
        except OSError as e:
            raise ImportError(f"spaCy model {model!r} is not installed: python -m spacy download {model}") from e
        self.model = model

    def extract(self, text: str) -> list[Entity]:
        out: dict[str, Entity] = {}
        for ent in self._nlp(text).ents:
            key = " ".join(ent.text.lower().split())
            if key and key not in out:
                out[key] = Entity(key, ent.text, _SPACY_KINDS.get(ent.label_, "span"))
        return list(out.values())


_EXTRACTORS: Registry[EntityExtractor] = Registry("entity extractor")
_EXTRACTORS.register("heuristic", HeuristicExtractor)
_EXTRACTORS.register("spacy", SpacyExtractor)


def register_extractor(
    name: str, factory: str | Callable[..., EntityExtractor] | None = None
) -> Callable[[Callable[..., EntityExtractor]], Callable[..., EntityExtractor]]:
    """``make_extractor(name, **options)`` will call ``factory`` (or ``"module:factory"``); a decorator
    when ``factory`` is omitted."""
    return _EXTRACTORS.register(name, factory)


def extractor_names() -> list[str]:
    return _EXTRACTORS.names()


def make_extractor(name: str = "heuristic", **options: Any) -> EntityExtractor:
    """Build an extractor by name: ``heuristic`` (default) or ``spacy`` (``model=...``)."""
    return _EXTRACTORS.make(name, **options)
