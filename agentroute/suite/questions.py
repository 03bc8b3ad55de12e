"""Seeded questions about the suite's world (and plain arithmetic, units and dates), and ``build_suite``.

Every kind is phrased several ways; the wording carries the signal of which tool fits (numbers and
operators, unit names, dates, entity names), so a router can learn it. Gold answers follow the suite's
conventions (see ``units.py``) and list the accepted formats.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from agentroute.agents import AgentPool
from agentroute.suite.tools import make_tools
from agentroute.suite.units import CONVERSIONS, UNIT_WORDS, WEEKDAYS, convert, fmt_date, fmt_number
from agentroute.suite.world import World
from agentroute.types import Query

KIND_WEIGHTS: dict[str, float] = {
    "arithmetic": 0.14,
    "conversion": 0.10,
    "date": 0.11,
    "fact": 0.30,
    "two_hop": 0.15,
    "comparison": 0.20,
}

_OP_WORDS = {"+": ("plus",), "-": ("minus",), "*": ("times", "multiplied by"), "/": ("divided by",)}
_VERBAL = {
    "+": "What do you get if you add {b} to {a}?",
    "-": "Subtract {b} from {a}. What is left?",
    "*": "What do you get if you multiply {a} by {b}?",
    "/": "Divide {a} by {b}. What is the result?",
}

FACT_TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("person", "city"): ("In which city does {e} live?", "Where does {e} live?", "What is {e}'s home city?"),
    ("person", "employer"): (
        "Which company does {e} work for?",
        "Who employs {e}?",
        "What is the name of {e}'s employer?",
    ),
    ("person", "born"): ("When was {e} born?", "What is {e}'s date of birth?", "On what date was {e} born?"),
    ("person", "height"): (
        "How tall is {e} in cm?",
        "What is {e}'s height in centimeters?",
        "What height is {e}, in cm?",
    ),
    ("city", "country"): (
        "In which country is {e}?",
        "{e} is located in which country?",
        "Which nation is {e} part of?",
    ),
    ("city", "population"): (
        "What is the population of {e}?",
        "How many people live in {e}?",
        "How many inhabitants does {e} have?",
    ),
    ("city", "founded"): (
        "When was {e} founded?",
        "In what year was the city of {e} founded?",
        "What year was {e} established?",
    ),
    ("country", "capital"): (
        "What is the capital of {e}?",
        "Which city is the capital of {e}?",
        "{e}'s capital is which city?",
    ),
    ("country", "currency"): (
        "What currency is used in {e}?",
        "What is the currency of {e}?",
        "Which currency does {e} use?",
    ),
    ("country", "continent"): (
        "On which continent is {e}?",
        "{e} lies on which continent?",
        "Which continent is {e} part of?",
    ),
    ("company", "founded"): (
        "When was {e} founded?",
        "In what year was {e} established?",
        "What year was {e} set up?",
    ),
    ("company", "hq"): (
        "Where is {e} headquartered?",
        "In which city is {e} based?",
        "Which city hosts the headquarters of {e}?",
    ),
    ("company", "ceo"): ("Who is the CEO of {e}?", "Who runs {e}?", "Who leads {e} as chief executive?"),
    ("company", "employees"): (
        "How many employees does {e} have?",
        "How many people work at {e}?",
        "What is the headcount of {e}?",
    ),
}

TWO_HOP_TEMPLATES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("person", "city", "country"): (
        "In which country does {e} live?",
        "Which country is {e}'s home city in?",
        "{e} resides in a city of which nation?",
    ),
    ("person", "employer", "ceo"): (
        "Who is the CEO of the company {e} works for?",
        "Who is the CEO of {e}'s employer?",
        "Who runs the company that employs {e}?",
    ),
    ("person", "employer", "hq"): (
        "In which city is the company {e} works for headquartered?",
        "Where is {e}'s employer headquartered?",
        "In which city is the firm employing {e} based?",
    ),
    ("person", "employer", "founded"): (
        "When was the company {e} works for founded?",
        "In what year was {e}'s employer established?",
        "What year was the firm that employs {e} set up?",
    ),
    ("person", "city", "population"): (
        "What is the population of the city where {e} lives?",
        "How many inhabitants does {e}'s home city have?",
        "How many people live in the city {e} calls home?",
    ),
    ("city", "country", "capital"): (
        "What is the capital of the country where {e} is located?",
        "{e} lies in a country; which city is that country's capital?",
        "Name the capital of the nation containing {e}.",
    ),
    ("city", "country", "currency"): (
        "What currency is used in the country where {e} lies?",
        "Which currency is used in {e}'s country?",
        "In {e}, which currency do people pay with?",
    ),
    ("company", "hq", "country"): (
        "In which country is {e} headquartered?",
        "{e} is based in which country?",
        "Which nation hosts the headquarters of {e}?",
    ),
    ("company", "ceo", "born"): (
        "When was the CEO of {e} born?",
        "What is the date of birth of {e}'s CEO?",
        "On what date was the chief executive of {e} born?",
    ),
    ("company", "ceo", "city"): (
        "In which city does the CEO of {e} live?",
        "Where does {e}'s CEO live?",
        "Where does the person who runs {e} reside?",
    ),
}

COMPARE_TEMPLATES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("person", "height", "max"): (
        "Who is taller, {a} or {b}?",
        "Which of {a} and {b} is taller?",
        "Is {a} or {b} the taller person?",
    ),
    ("person", "born", "min"): (
        "Who was born first, {a} or {b}?",
        "Who is older, {a} or {b}?",
        "Which of {a} and {b} was born earlier?",
    ),
    ("city", "population", "max"): (
        "Which city has more people, {a} or {b}?",
        "Which is more populous, {a} or {b}?",
        "Does {a} or {b} have the larger population?",
    ),
    ("city", "founded", "min"): (
        "Which city is older, {a} or {b}?",
        "Which was founded first, {a} or {b}?",
        "Was {a} or {b} established earlier?",
    ),
    ("company", "founded", "min"): (
        "Which company is older, {a} or {b}?",
        "Which was founded first, {a} or {b}?",
        "Of {a} and {b}, which company was established earlier?",
    ),
    ("company", "employees", "max"): (
        "Which company has more employees, {a} or {b}?",
        "Does {a} or {b} employ more people?",
        "Which is the bigger employer, {a} or {b}?",
    ),
}


@dataclass
class _Item:
    text: str
    gold: list[str]
    kind: str
    form: str
    context: list[str]


class QuestionGenerator:
    """Draws questions of every kind from one seeded random stream."""

    def __init__(self, world: World, seed: int = 0) -> None:
        self.world = world
        self.rng = random.Random(f"agentroute-questions-{seed}")
        self._facts = list(FACT_TEMPLATES)
        self._chains = list(TWO_HOP_TEMPLATES)
        self._compares = list(COMPARE_TEMPLATES)

    def generate(self, n: int, prefix: str = "q") -> list[Query]:
        """``n`` questions with distinct texts, ids ``{prefix}-0000``…"""
        out: list[Query] = []
        seen: set[str] = set()
        kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
        makers = {
            "arithmetic": self._arithmetic,
            "conversion": self._conversion,
            "date": self._date,
            "fact": self._fact,
            "two_hop": self._two_hop,
            "comparison": self._comparison,
        }
        for _ in range(n * 20):
            if len(out) == n:
                break
            item = makers[self.rng.choices(kinds, weights)[0]]()
            if item.text in seen:
                continue
            seen.add(item.text)
            meta = {"kind": item.kind, "form": item.form, "has_context": bool(item.context)}
            out.append(
                Query(
                    id=f"{prefix}-{len(out):04d}",
                    text=item.text,
                    context=item.context,
                    gold=item.gold,
                    meta=meta,
                )
            )
        if len(out) < n:
            raise ValueError(f"could only generate {len(out)} distinct questions, {n} asked")
        return out

    # -- kinds -------------------------------------------------------------------------------------

    def _operands(self, op: str) -> tuple[int, int]:
        r = self.rng
        if op == "*":
            return r.randint(2, 40), r.randint(2, 30)
        if op == "/":
            b = r.randint(2, 20)
            return b * r.randint(2, 30), b
        return r.randint(2, 99), r.randint(2, 99)

    def _arithmetic(self) -> _Item:
        r = self.rng
        op = r.choice("+-*/")
        a, b = self._operands(op)
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]
        form = r.randrange(5)
        if form == 0:
            text = f"What is {a} {op} {b}?"
        elif form == 1:
            text = f"Compute {a} {r.choice(_OP_WORDS[op])} {b}."
        elif form == 2:
            op2, c = r.choice("+-*"), r.randint(2, 9)
            value = {"+": value + c, "-": value - c, "*": value * c}[op2]
            text = f"Calculate ({a} {op} {b}) {op2} {c}."
        elif form == 3:
            text = _VERBAL[op].format(a=a, b=b)
        else:
            text = f"How much is {a} {r.choice(_OP_WORDS[op])} {b}?"
        return _Item(text, [str(value)], "arithmetic", f"arithmetic.{form}", [])

    def _conversion(self) -> _Item:
        r = self.rng
        src, dst = r.choice(CONVERSIONS)
        if src == "c":
            x: float = r.randint(-20, 40)
        elif src == "f":
            x = r.randint(-4, 104)
        else:
            x = r.randint(1, 500) if r.random() < 0.8 else r.randint(10, 999) / 10
        qty = f"{fmt_number(x)} {r.choice(UNIT_WORDS[src])}"
        target = UNIT_WORDS[dst][0]
        form = r.randrange(4)
        text = (
            f"Convert {qty} to {target}.",
            f"How many {target} is {qty}?",
            f"What is {qty} in {target}?",
            f"{qty} equals how many {target}?",
        )[form]
        answer = fmt_number(convert(x, src, dst))
        return _Item(text[0].upper() + text[1:], [answer, f"{answer} {target}"], "conversion", f"conversion.{form}", [])

    def _date(self) -> _Item:
        r = self.rng
        day = dt.date(1990, 1, 1) + dt.timedelta(days=r.randint(0, 15000))
        style = r.choices(("iso", "us", "eu"), (0.6, 0.25, 0.15))[0]
        d = fmt_date(day, style)
        sub, form = r.choice(("after", "before", "weekday", "between")), r.randrange(3)
        if sub == "weekday":
            text = (
                f"What day of the week was {d}?",
                f"On which weekday did {d} fall?",
                f"{d} was which day of the week?",
            )[form]
            return _Item(text, [WEEKDAYS[day.weekday()]], "date", f"date.weekday.{form}", [])
        n = r.randint(1, 400)
        if sub == "between":
            d2 = fmt_date(day + dt.timedelta(days=n), style)
            text = (
                f"How many days are there between {d} and {d2}?",
                f"How many days passed from {d} to {d2}?",
                f"Count the days from {d} until {d2}.",
            )[form]
            return _Item(text, [str(n), f"{n} days"], "date", f"date.between.{form}", [])
        if sub == "after":
            result = day + dt.timedelta(days=n)
            text = (
                f"What date is {n} days after {d}?",
                f"Which date comes {n} days after {d}?",
                f"Add {n} days to {d}. What date is it?",
            )[form]
        else:
            result = day - dt.timedelta(days=n)
            text = (
                f"What date is {n} days before {d}?",
                f"What was the date {n} days before {d}?",
                f"Subtract {n} days from {d}. Which date results?",
            )[form]
        return _Item(text, [result.isoformat(), fmt_date(result, "us")], "date", f"date.{sub}.{form}", [])

    def _passages(self, names: list[str], distractors: int) -> list[str]:
        pool = [n for n in self.world.passages if n not in names]
        chosen = names + self.rng.sample(pool, distractors)
        self.rng.shuffle(chosen)
        return [self.world.passages[n] for n in chosen]

    def _fact(self) -> _Item:
        r = self.rng
        kind, attr = r.choice(self._facts)
        entity = r.choice(self.world.names_of(kind))
        form = r.randrange(3)
        text = FACT_TEMPLATES[kind, attr][form].format(e=entity)
        gold = _gold(attr, self.world.facts[entity][attr])
        context = self._passages([entity], r.randint(1, 2)) if r.random() < 0.5 else []
        return _Item(text[0].upper() + text[1:], gold, "fact", f"fact.{kind}.{attr}.{form}", context)

    def _two_hop(self) -> _Item:
        r = self.rng
        kind, first, second = r.choice(self._chains)
        entity = r.choice(self.world.names_of(kind))
        bridge = self.world.facts[entity][first]
        form = r.randrange(3)
        text = TWO_HOP_TEMPLATES[kind, first, second][form].format(e=entity)
        gold = _gold(second, self.world.facts[bridge][second])
        context = self._passages([entity, bridge], r.randint(0, 1)) if r.random() < 0.4 else []
        return _Item(text[0].upper() + text[1:], gold, "two_hop", f"two_hop.{kind}.{first}.{second}.{form}", context)

    def _comparison(self) -> _Item:
        r = self.rng
        kind, attr, best = r.choice(self._compares)
        for _ in range(50):
            a, b = r.sample(self.world.names_of(kind), 2)
            va, vb = (self.world.facts[n][attr] for n in (a, b))
            if va != vb:
                break
        ka, kb = (int(va), int(vb)) if va.isdigit() else (va, vb)  # ISO dates compare as strings
        a_wins = ka > kb if best == "max" else ka < kb  # type: ignore[operator]
        form = r.randrange(3)
        text = COMPARE_TEMPLATES[kind, attr, best][form].format(a=a, b=b)
        context = self._passages([a, b], r.randint(0, 1)) if r.random() < 0.5 else []
        return _Item(text, [a if a_wins else b], "comparison", f"comparison.{kind}.{attr}.{form}", context)


def _gold(attr: str, value: str) -> list[str]:
    """Accepted answer strings for a fact value."""
    if attr == "height":
        return [value, f"{value} cm"]
    if attr == "born":
        return [value, fmt_date(dt.date.fromisoformat(value), "us")]
    return [value]


@dataclass
class Suite:
    """The built-in offline benchmark: a world, train/test questions about it, and its tool agents."""

    world: World
    train: list[Query]
    test: list[Query]
    agents: AgentPool


def build_suite(seed: int = 0, n_train: int = 600, n_test: int = 300) -> Suite:
    """Generate the world, ``n_train + n_test`` distinct questions (split by question) and the agents."""
    world = World.generate(seed)
    questions = QuestionGenerator(world, seed).generate(n_train + n_test, prefix=f"suite{seed}")
    return Suite(world, questions[:n_train], questions[n_train:], AgentPool(make_tools(world, seed)))
