"""The suite's tool agents, written with the public ``@agent`` decorator and ``Agent`` class.

Competences overlap and are partial on purpose (each tool understands only some phrasings, the lookups
know only part of the world), so no single agent is best everywhere and routing matters.
"""

from __future__ import annotations

import datetime as dt
import re

from agentroute.agents import Agent, agent
from agentroute.suite.arith import ExpressionError, evaluate, extract_expression
from agentroute.suite.generalist import Generalist
from agentroute.suite.lookup import KBLookupAgent, PartialKB, PassageReaderAgent
from agentroute.suite.parsing import ALL_CUES
from agentroute.suite.units import MONTHS, WEEKDAYS, UnitParser, convert, fmt_number
from agentroute.suite.world import World
from agentroute.types import AgentResult, Query

# --- calculator -----------------------------------------------------------------------------------


@agent(
    name="calculator",
    description="Evaluates arithmetic written with numbers and + - * / ^ or the words plus, minus, times, "
    "divided by (e.g. 'What is 17 * 23?'). Exact; does not understand word problems.",
    skills=["arithmetic", "math", "calculation", "numbers"],
    cost_per_call=0.0001,
)
def calculator(query: Query) -> str | AgentResult:
    expression = extract_expression(query.text)
    if expression is None:
        return AgentResult(agent="calculator", error="no arithmetic expression found")
    try:
        return fmt_number(evaluate(expression), 4)
    except ExpressionError as e:
        return AgentResult(agent="calculator", error=f"cannot evaluate {expression!r}: {e}")


# --- unit converter -------------------------------------------------------------------------------

#: The spellings the converter knows (fewer than the questions use: no grams/ounces, no British spellings).
_CONVERTER_UNITS: dict[str, tuple[str, ...]] = {
    "km": ("kilometers", "kilometer", "km"),
    "mile": ("miles", "mile", "mi"),
    "m": ("meters", "meter", "m"),
    "ft": ("feet", "foot", "ft"),
    "in": ("inches", "inch"),
    "cm": ("centimeters", "cm"),
    "kg": ("kilograms", "kg"),
    "lb": ("pounds", "lb"),
    "l": ("liters", "L"),
    "gal": ("gallons", "gal"),
    "c": ("degrees Celsius", "°C", "Celsius"),
    "f": ("degrees Fahrenheit", "°F", "Fahrenheit"),
}
_PARSER = UnitParser(_CONVERTER_UNITS)


@agent(
    name="unit-converter",
    description="Converts quantities between units: km/miles/meters/feet/inches/cm, kg/pounds, "
    "liters/gallons, Celsius/Fahrenheit. Answers rounded to 2 decimals.",
    skills=["unit conversion", "measurement", "km", "miles", "kg", "pounds", "celsius", "fahrenheit"],
    cost_per_call=0.0001,
)
def unit_converter(query: Query) -> str | AgentResult:
    parsed = _PARSER.parse(query.text)
    if parsed is None:
        return AgentResult(agent="unit-converter", error="no conversion found")
    try:
        return fmt_number(convert(*parsed))
    except ValueError as e:
        return AgentResult(agent="unit-converter", error=str(e))


# --- date calculator ------------------------------------------------------------------------------

_ISO = r"(\d{4})-(\d{2})-(\d{2})"
_US = r"(" + "|".join(MONTHS) + r") (\d{1,2}), (\d{4})"
_DATE_RE = re.compile(rf"\b(?:{_ISO}|{_US})\b")
_DAYS_RE = re.compile(r"\b(\d+) days?\b")
_BACK_RE = re.compile(r"\b(?:before|earlier|subtract|ago|prior)\b", re.IGNORECASE)


def find_dates(text: str) -> list[dt.date]:
    """ISO and 'Month D, YYYY' dates in the text (not 'D Month YYYY')."""
    out: list[dt.date] = []
    for m in _DATE_RE.finditer(text):
        y, mo, d, month, d2, y2 = m.groups()
        try:
            out.append(dt.date(int(y), int(mo), int(d)) if y else dt.date(int(y2), MONTHS.index(month) + 1, int(d2)))
        except ValueError:
            continue
    return out


@agent(
    name="date-calculator",
    description="Calendar arithmetic on dates written 2021-03-04 or March 4, 2021: adds or subtracts days, "
    "counts the days between two dates, names the weekday of a date. Answers ISO dates.",
    skills=["dates", "calendar", "weekday", "days between dates"],
    cost_per_call=0.0001,
)
def date_calculator(query: Query) -> str | AgentResult:
    dates = find_dates(query.text)
    if not dates:
        return AgentResult(agent="date-calculator", error="no date found")
    text = query.text.lower()
    if "day of the week" in text or "weekday" in text:
        return WEEKDAYS[dates[0].weekday()]
    if len(dates) >= 2:
        return str(abs((dates[1] - dates[0]).days))
    days = _DAYS_RE.search(text)
    if days is None:
        return AgentResult(agent="date-calculator", error="no day count found")
    n = int(days.group(1))
    return (dates[0] + dt.timedelta(days=-n if _BACK_RE.search(text) else n)).isoformat()


# --- the pool -------------------------------------------------------------------------------------

#: Cue words the two-hop agent does not know (so it fails on some phrasings).
_TWO_HOP_UNKNOWN = frozenset({"home", "reside", "employ", "nation", "inhabitants", "based", "chief"})


def make_tools(world: World, seed: int = 0) -> list[Agent]:
    """The suite's seven tool agents for ``world``; knowledge and guesses are seeded by ``seed``."""
    lookup = KBLookupAgent(
        "kb-lookup",
        "Looks up one fact about a person, city, country or company in a knowledge base (where someone "
        "lives or works, birth date, height, capital, currency, founding year, CEO, headquarters, size) and "
        "compares two entities on one attribute (taller, older, more populous). Knows most, not all, facts.",
        ["facts", "people", "cities", "countries", "companies", "comparison"],
        world,
        PartialKB(world, seed, "lookup", know=0.8, wrong=0.1),
        hops=1,
        cost_per_call=0.0005,
    )
    two_hop = KBLookupAgent(
        "kb-two-hop",
        "Answers multi-hop questions by chaining knowledge-base lookups: the country a person lives in, the "
        "CEO of the company a person works for, the capital of a city's country. Also single facts.",
        ["multi-hop", "facts", "people", "companies", "countries"],
        world,
        PartialKB(world, seed, "two-hop", know=0.70, wrong=0.12),
        hops=2,
        vocab=ALL_CUES - _TWO_HOP_UNKNOWN,
        compare=False,
        cost_per_call=0.0008,
    )
    reader = PassageReaderAgent(
        "passage-reader",
        "Reads the passages given with a question and extracts the asked fact, or compares two entities "
        "described there. Needs context passages; answers nothing without them.",
        ["reading comprehension", "context passages", "facts", "comparison"],
        world,
        0.001,
    )
    return [
        calculator,
        unit_converter,
        date_calculator,
        lookup,
        two_hop,
        reader,
        Generalist(world, seed),
    ]
