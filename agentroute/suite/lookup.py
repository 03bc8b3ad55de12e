"""Knowledge agents of the suite: partial knowledge-base lookups and the passage reader.

Each lookup agent holds its own seeded, partial and partly wrong copy of the world's facts, so two
lookups disagree where their knowledge differs, and neither is always right.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable, Collection, Sequence

from agentroute.agents import Agent
from agentroute.suite.parsing import ALL_CUES, CompareAsk, EntityFinder, FactAsk, parse_question
from agentroute.suite.world import LINKS, World
from agentroute.types import AgentResult, Query

Getter = Callable[[str, str], "str | None"]


def stable_hash(*parts: object) -> int:
    """A hash that is the same in every process (``hash()`` of str is salted per run)."""
    return zlib.crc32("|".join(map(str, parts)).encode())


def corrupt(world: World, name: str, attr: str, value: str, rng: random.Random) -> str:
    """A plausible wrong value for a fact: another entity of the right type, a nearby number or date."""
    target = LINKS.get((world.types[name], attr))
    if target:
        return rng.choice([n for n in world.names_of(target) if n != value])
    if attr == "born":
        year, rest = value.split("-", 1)
        return f"{int(year) + rng.choice((-3, -2, -1, 1, 2, 3))}-{rest}"
    if attr == "continent":
        return rng.choice(["Aurelis", "Nortavia", "Sudmera", "Westmark"])
    if attr == "currency":
        return rng.choice([c.currency for c in world.countries if c.currency != value])
    if attr == "founded":
        return str(int(value) + rng.choice((-1, 1)) * rng.randint(1, 60))
    number = int(value)
    delta = max(1, round(abs(number) * rng.uniform(0.02, 0.3)))
    return str(number + rng.choice((-1, 1)) * delta)


class PartialKB:
    """A seeded copy of the world's facts: each one known (p=know), believed wrongly (p=wrong) or absent."""

    def __init__(self, world: World, seed: int, salt: str, know: float, wrong: float) -> None:
        rng = random.Random(f"kb-{salt}-{seed}")
        self.facts: dict[tuple[str, str], str] = {}
        for name, attrs in world.facts.items():
            for attr, value in attrs.items():
                roll = rng.random()
                if roll < know:
                    self.facts[name, attr] = value
                elif roll < know + wrong:
                    self.facts[name, attr] = corrupt(world, name, attr, value, rng)

    def get(self, name: str, attr: str) -> str | None:
        return self.facts.get((name, attr))


def answer_fact(ask: FactAsk, get: Getter) -> str | None:
    """Follow the attribute chain from the entity; None where a link is unknown."""
    value: str | None = ask.entity
    for attr in ask.chain:
        value = get(value, attr) if value is not None else None
    return value


def answer_compare(ask: CompareAsk, get: Getter, guess_seed: int | None) -> str | None:
    """The entity with the larger/smaller value; a seeded guess between the two when a value is unknown."""
    va, vb = get(ask.a, ask.attr), get(ask.b, ask.attr)
    if va is None or vb is None:
        if guess_seed is None:
            return None
        return (ask.a, ask.b)[guess_seed % 2]
    if va.isdigit() and vb.isdigit():
        a_wins = int(va) > int(vb) if ask.best == "max" else int(va) < int(vb)
    else:  # ISO dates compare as strings
        a_wins = va > vb if ask.best == "max" else va < vb
    return ask.a if a_wins else ask.b


class KBLookupAgent(Agent):
    """Answers fact and comparison questions from a partial knowledge base (one or two hops)."""

    def __init__(
        self,
        name: str,
        description: str,
        skills: Sequence[str],
        world: World,
        kb: PartialKB,
        hops: int,
        vocab: Collection[str] = ALL_CUES,
        compare: bool = True,
        cost_per_call: float | None = None,
    ) -> None:
        super().__init__(name, description, skills, cost_per_call)
        self.finder = EntityFinder(world.types)
        self.kb, self.hops, self.vocab, self.compare = kb, hops, frozenset(vocab), compare

    def run(self, query: Query) -> str | AgentResult:
        ask = parse_question(query.text, self.finder, self.vocab, self.hops)
        if ask is None or (isinstance(ask, CompareAsk) and not self.compare):
            return AgentResult(agent=self.name, error="question not understood")
        if isinstance(ask, CompareAsk):
            out = answer_compare(ask, self.kb.get, stable_hash(self.name, query.text))
        else:
            out = answer_fact(ask, self.kb.get)
        return out if out is not None else AgentResult(agent=self.name, error="fact not in knowledge base")


_NAME = r"([A-Z][a-z]+)"
_FULL = r"([A-Z][a-z]+ [A-Z][a-z]+)"

#: What the reader can read: one pattern per attribute (it knows only some of the passages' phrasings).
READ_PATTERNS: dict[str, re.Pattern[str]] = {
    attr: re.compile(pat)
    for attr, pat in {
        "city": rf"lives in {_NAME}",
        "employer": rf"(?:works for|employed by) {_FULL}",
        "born": r"(?i:born on) (\d{4}-\d{2}-\d{2})",
        "height": r"(\d+) cm tall",
        "country": rf"(?:city in|lies in) {_NAME}",
        "population": r"population of (\d+)",
        "founded": r"(?i:founded|established) in (\d{4})",
        "capital": rf"capital (?:city )?is {_NAME}",
        "currency": r"currency is the ([a-z]+)",
        "continent": rf"country in {_NAME}",
        "hq": rf"(?i:headquartered|based) in {_NAME}",
        "ceo": rf"(?:CEO is|executive) {_FULL}",
        "employees": r"(\d+) employees",
    }.items()
}


def read_passages(passages: Sequence[str], name: str, attr: str) -> str | None:
    """The attribute read from the passages mentioning ``name``, the earliest-mentioning passage first."""
    mentioning = sorted((p.find(name), i) for i, p in enumerate(passages) if name in p)
    for _, i in mentioning:
        m = READ_PATTERNS[attr].search(passages[i])
        if m:
            return m.group(1)
    return None


class PassageReaderAgent(Agent):
    """Answers fact and comparison questions by pattern matching over the query's context passages."""

    def __init__(self, name: str, description: str, skills: Sequence[str], world: World, cost: float) -> None:
        super().__init__(name, description, skills, cost)
        self.finder = EntityFinder(world.types)

    def run(self, query: Query) -> str | AgentResult:
        if not query.context:
            return AgentResult(agent=self.name, error="no context passages")
        ask = parse_question(query.text, self.finder)
        if ask is None:
            return AgentResult(agent=self.name, error="question not understood")

        def get(name: str, attr: str) -> str | None:
            return read_passages(query.context, name, attr)

        out = answer_compare(ask, get, None) if isinstance(ask, CompareAsk) else answer_fact(ask, get)
        return out if out is not None else AgentResult(agent=self.name, error="answer not found in passages")
