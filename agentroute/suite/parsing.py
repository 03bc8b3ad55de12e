"""Reading fact questions: which entities are mentioned, which attribute (chain) or comparison is asked.

Cue words map to attributes per entity type. An agent's *vocabulary* is the subset of cue keys it knows,
so agents that share this parser still differ in which phrasings they understand.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from agentroute.suite.world import LINKS


@dataclass(frozen=True)
class Cue:
    key: str
    pattern: re.Pattern[str]
    attrs: dict[str, str]  # entity type -> attribute


def _cue(key: str, pattern: str, **attrs: str) -> Cue:
    return Cue(key, re.compile(pattern, re.IGNORECASE), attrs)


#: Fact cues in priority order (the first matching own-type cue wins).
FACT_CUES: tuple[Cue, ...] = (
    _cue("live", r"\blives?\b|\bliving\b", person="city"),
    _cue("home", r"\bhome\b", person="city"),
    _cue("reside", r"\bresid", person="city"),
    _cue("works_for", r"\bworks? for\b", person="employer"),
    _cue("employ", r"\bemploy(?:s|er|ed|ing)\b", person="employer"),
    _cue("born", r"\bborn\b|\bbirth\b", person="born"),
    _cue("height", r"\btall\b|\bheight\b", person="height"),
    _cue("country", r"\bcountry\b", city="country"),
    _cue("nation", r"\bnation\b", city="country"),
    _cue("population", r"\bpopulation\b|\bpeople live\b", city="population"),
    _cue("inhabitants", r"\binhabitants\b", city="population"),
    _cue("founded", r"\bfounded\b|\bestablished\b", company="founded", city="founded"),
    _cue("set_up", r"\bset up\b", company="founded", city="founded"),
    _cue("capital", r"\bcapital\b", country="capital"),
    _cue("currency", r"\bcurrency\b", country="currency"),
    _cue("continent", r"\bcontinent\b", country="continent"),
    _cue("hq", r"\bheadquarter", company="hq"),
    _cue("based", r"\bbased\b", company="hq"),
    _cue("ceo", r"\bceo\b", company="ceo"),
    _cue("chief", r"\bchief executive\b|\bruns\b|\bleads\b", company="ceo"),
    _cue("employees", r"\bemployees\b|\bheadcount\b|\bpeople work\b", company="employees"),
)

#: Comparison cues: (key, pattern, entity type, attribute, "max" | "min").
COMPARE_CUES: tuple[tuple[str, re.Pattern[str], str, str, str], ...] = tuple(
    (key, re.compile(pat, re.IGNORECASE), kind, attr, best)
    for key, pat, kind, attr, best in (
        ("taller", r"\btaller\b", "person", "height", "max"),
        ("older_person", r"\bborn first\b|\bborn earlier\b|\bolder\b", "person", "born", "min"),
        ("more_people", r"\bmore people\b|\bpopulous\b|\blarger population\b", "city", "population", "max"),
        ("older", r"\bolder\b|\bfounded first\b|\bestablished earlier\b", "city", "founded", "min"),
        ("older", r"\bolder\b|\bfounded first\b|\bestablished earlier\b", "company", "founded", "min"),
        ("bigger", r"\bmore employees\b|\bemploy more\b|\bbigger employer\b", "company", "employees", "max"),
    )
)

ALL_CUES: frozenset[str] = frozenset(c.key for c in FACT_CUES) | frozenset(c[0] for c in COMPARE_CUES)


class EntityFinder:
    """Finds known entity names in text (longest name first, whole words only)."""

    def __init__(self, types: Mapping[str, str]) -> None:
        self.types = dict(types)
        names = sorted(self.types, key=len, reverse=True)
        self._re = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")

    def find(self, text: str) -> list[str]:
        """Names in order of first mention, without repeats."""
        seen: list[str] = []
        for m in self._re.finditer(text):
            if m.group(1) not in seen:
                seen.append(m.group(1))
        return seen


@dataclass(frozen=True)
class FactAsk:
    """'What is attribute chain[-1] of (chain[0] of) entity?'"""

    entity: str
    chain: tuple[str, ...]


@dataclass(frozen=True)
class CompareAsk:
    """'Which of a and b has the max/min attribute?'"""

    a: str
    b: str
    attr: str
    best: str


def parse_question(
    text: str, finder: EntityFinder, vocab: Collection[str] = ALL_CUES, hops: int = 2
) -> FactAsk | CompareAsk | None:
    """What the question asks, as far as an agent with this vocabulary and hop depth understands it."""
    entities = finder.find(text)
    if not entities:
        return None
    kind = finder.types[entities[0]]
    same = [e for e in entities if finder.types[e] == kind]
    if len(same) >= 2:
        for key, pattern, ckind, attr, best in COMPARE_CUES:
            if ckind == kind and key in vocab and pattern.search(text):
                return CompareAsk(same[0], same[1], attr, best)
        return None
    own: list[str] = []
    other: list[tuple[str, str]] = []
    for cue in FACT_CUES:
        if cue.key not in vocab or not cue.pattern.search(text):
            continue
        if kind in cue.attrs:
            own.append(cue.attrs[kind])
            continue
        for target_type, attr in cue.attrs.items():
            bridge = _bridge(kind, target_type)
            if bridge:
                other.append((bridge, attr))
                break
    if other and hops >= 2:
        return FactAsk(entities[0], other[0])
    if own:
        return FactAsk(entities[0], (own[0],))
    return None


def _bridge(src_type: str, dst_type: str) -> str | None:
    """The attribute linking an entity of ``src_type`` to one of ``dst_type`` (one hop), if any."""
    for (kind, attr), target in LINKS.items():
        if kind == src_type and target == dst_type:
            return attr
    return None
