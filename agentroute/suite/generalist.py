"""The suite's weak generalist: attempts every kind of question, usually roughly, often wrongly.

It stands in for a cheap all-round model: it understands more phrasings than the specialists (including
verbal arithmetic such as 'multiply 14 by 6') but computes and remembers badly, and guesses when unsure.
"""

from __future__ import annotations

import datetime as dt
import random
import re

from agentroute.agents import Agent
from agentroute.suite.arith import extract_expression, tokenize
from agentroute.suite.lookup import PartialKB, answer_compare, answer_fact, stable_hash
from agentroute.suite.parsing import CompareAsk, EntityFinder, parse_question
from agentroute.suite.units import UNIT_WORDS, WEEKDAYS, UnitParser, fmt_number
from agentroute.suite.world import CONTINENTS, LINKS, World
from agentroute.types import AgentResult, Query

#: Rounded conversion factors ("about 0.6 miles per km"); temperatures and inches to cm come out exact.
_ROUGH: dict[tuple[str, str], float] = {
    ("km", "mile"): 0.6, ("mile", "km"): 1.6, ("kg", "lb"): 2.2, ("lb", "kg"): 0.45, ("m", "ft"): 3.3,
    ("ft", "m"): 0.3, ("l", "gal"): 0.26, ("in", "cm"): 2.54, ("cm", "in"): 0.4, ("g", "oz"): 0.035,
}  # fmt: skip
_VERBAL = (
    (re.compile(r"\badd (\d+) to (\d+)", re.I), "+", False),
    (re.compile(r"\bsubtract (\d+) from (\d+)", re.I), "-", True),
    (re.compile(r"\bmultiply (\d+) by (\d+)", re.I), "*", False),
    (re.compile(r"\bdivide (\d+) by (\d+)", re.I), "/", False),
)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAYS = re.compile(r"\b(\d+) days?\b")


def _round10(x: float) -> float:
    return float(round(x, -1))


def rough_apply(a: float, op: str, b: float) -> float:
    """Mental estimation: small sums, times tables and division by one digit are exact; otherwise the
    operands are rounded to tens first ('about 70 + 90')."""
    if op in "+-":
        if max(a, b) >= 30:
            a, b = _round10(a), _round10(b)
        return a + b if op == "+" else a - b
    if op == "*":
        return a * b if max(a, b) <= 12 else _round10(a) * b if a >= b else a * _round10(b)
    if b <= 10:
        return a / b if b else 0.0
    return a / _round10(b)


def rough_arithmetic(text: str) -> float | None:
    """Left-to-right arithmetic, ignoring precedence, over symbols, operator words or verbal forms."""
    for pattern, op, swap in _VERBAL:
        m = pattern.search(text)
        if m:
            a, b = float(m.group(1)), float(m.group(2))
            return rough_apply(b, op, a) if swap else rough_apply(a, op, b)
    expression = extract_expression(text)
    if expression is None:
        return None
    try:
        tokens = [t for t in tokenize(expression) if t not in ("(", ")")]
    except ValueError:
        return None
    if len(tokens) < 3 or not tokens[0][0].isdigit():
        return None
    value = float(tokens[0])
    for op, number in zip(tokens[1::2], tokens[2::2], strict=False):
        if not number[0].isdigit():
            return None
        value = rough_apply(value, op, float(number))
    return value


def _naive_days(day: dt.date) -> int:
    """Days since year 0 counting every month as 30 days and every year as 360."""
    return day.year * 360 + (day.month - 1) * 30 + day.day - 1


def rough_date(text: str, seed: int) -> str | None:
    """Weekdays guessed; day counts and shifts done as if every month had 30 days."""
    dates = [dt.date(int(y), int(m), int(d)) for y, m, d in _ISO.findall(text)]
    if not dates:
        return None
    if "week" in text.lower():
        return WEEKDAYS[seed % 7]
    if len(dates) >= 2:
        return str(abs(_naive_days(dates[1]) - _naive_days(dates[0])))
    days = _DAYS.search(text)
    if days is None:
        return None
    back = re.search(r"\b(?:before|earlier|subtract)\b", text, re.I)
    total = _naive_days(dates[0]) + (-1 if back else 1) * int(days.group(1))
    year, rest = divmod(total, 360)
    return dt.date(year, rest // 30 + 1, min(rest % 30 + 1, 28)).isoformat()


class Generalist(Agent):
    """Tries every question: rough solvers for numbers and dates, a small unreliable memory for facts."""

    def __init__(self, world: World, seed: int = 0) -> None:
        super().__init__(
            "generalist",
            "A cheap all-round assistant: attempts any question (arithmetic, unit conversions, dates, facts "
            "about people, cities, countries and companies) but computes roughly and often misremembers.",
            ["general knowledge", "arithmetic", "conversions", "dates", "facts"],
            cost_per_call=0.002,
        )
        self.world, self.seed = world, seed
        self.finder = EntityFinder(world.types)
        self.kb = PartialKB(world, seed, "generalist", know=0.25, wrong=0.35)
        self.units = UnitParser(UNIT_WORDS)

    def run(self, query: Query) -> str | AgentResult:
        text = query.text
        h = stable_hash(self.seed, text)
        if self.finder.find(text):
            return self._fact(text, h)
        date = rough_date(text, h)
        if date is not None:
            return date
        conversion = self.units.parse(text)
        if conversion is not None:
            value, src, dst = conversion
            if (src, dst) == ("c", "f"):
                return fmt_number(value * 9 / 5 + 32)
            if (src, dst) == ("f", "c"):
                return fmt_number((value - 32) * 5 / 9)
            return fmt_number(value * _ROUGH.get((src, dst), 1.0))
        number = rough_arithmetic(text)
        if number is not None:
            return fmt_number(number)
        return AgentResult(agent=self.name, error="no idea")

    def _fact(self, text: str, h: int) -> str:
        rng = random.Random(h)
        ask = parse_question(text, self.finder)
        if isinstance(ask, CompareAsk):
            return answer_compare(ask, self.kb.get, h) or ask.a
        if ask is None:
            return rng.choice(list(self.world.types))
        known = answer_fact(ask, self.kb.get)
        return known if known is not None else self._guess(ask.entity, ask.chain, rng)

    def _guess(self, entity: str, chain: tuple[str, ...], rng: random.Random) -> str:
        """A random value of the right type for the last attribute of the chain."""
        kind = self.world.types[entity]
        for attr in chain[:-1]:
            kind = LINKS[kind, attr]
        attr = chain[-1]
        target = LINKS.get((kind, attr))
        if target:
            return rng.choice(self.world.names_of(target))
        if attr == "currency":
            return rng.choice([c.currency for c in self.world.countries])
        if attr == "continent":
            return rng.choice(CONTINENTS)
        if attr == "born":
            return dt.date(rng.randint(1940, 2002), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
        ranges = {"height": (150, 200), "founded": (800, 2020), "population": (20000, 5000000)}
        low, high = ranges.get(attr, (50, 200000))
        return str(rng.randint(low, high))
