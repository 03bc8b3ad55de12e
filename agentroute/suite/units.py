"""Units, number and date formats shared by the question generator (gold answers) and the tool agents.

Conventions of the suite: numbers are plain (no thousands separators), conversions are rounded to two
decimals, dates are ISO ``yyyy-mm-dd``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

#: unit -> (dimension, factor to the dimension's base unit). Temperatures are handled separately.
UNITS: dict[str, tuple[str, float]] = {
    "km": ("length", 1000.0),
    "mile": ("length", 1609.344),
    "m": ("length", 1.0),
    "ft": ("length", 0.3048),
    "in": ("length", 0.0254),
    "cm": ("length", 0.01),
    "kg": ("mass", 1.0),
    "lb": ("mass", 0.45359237),
    "g": ("mass", 0.001),
    "oz": ("mass", 0.028349523125),
    "l": ("volume", 1.0),
    "gal": ("volume", 3.785411784),
    "c": ("temperature", 1.0),
    "f": ("temperature", 1.0),
}

#: Every way the questions write a unit (the first one is the plural used as a target unit).
UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "km": ("kilometers", "km", "kilometres"),
    "mile": ("miles", "mi"),
    "m": ("meters", "m", "metres"),
    "ft": ("feet", "ft"),
    "in": ("inches",),
    "cm": ("centimeters", "cm"),
    "kg": ("kilograms", "kg"),
    "lb": ("pounds", "lb", "lbs"),
    "g": ("grams", "g"),
    "oz": ("ounces", "oz"),
    "l": ("liters", "L", "litres"),
    "gal": ("gallons", "gal"),
    "c": ("degrees Celsius", "°C", "Celsius"),
    "f": ("degrees Fahrenheit", "°F", "Fahrenheit"),
}

#: The conversions the suite asks about.
CONVERSIONS: tuple[tuple[str, str], ...] = (
    ("km", "mile"), ("mile", "km"), ("kg", "lb"), ("lb", "kg"), ("c", "f"), ("f", "c"),
    ("m", "ft"), ("ft", "m"), ("l", "gal"), ("in", "cm"), ("cm", "in"), ("g", "oz"),
)  # fmt: skip

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def convert(value: float, src: str, dst: str) -> float:
    """Exact conversion between two units of the same dimension."""
    if (src, dst) == ("c", "f"):
        return value * 9 / 5 + 32
    if (src, dst) == ("f", "c"):
        return (value - 32) * 5 / 9
    (dim_a, fa), (dim_b, fb) = UNITS[src], UNITS[dst]
    if dim_a != dim_b or dim_a == "temperature":
        raise ValueError(f"cannot convert {src} to {dst}")
    return value * fa / fb


def fmt_number(value: float, decimals: int = 2) -> str:
    """'12', '7.46', '-3.5': rounded, no trailing zeros, no thousands separators."""
    rounded = round(value, decimals)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def fmt_date(day: dt.date, style: str = "iso") -> str:
    """Render a date: ``iso`` 2021-03-04, ``us`` March 4, 2021, ``eu`` 4 March 2021."""
    if style == "us":
        return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
    if style == "eu":
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return day.isoformat()


class UnitParser:
    """Reads '<number> <unit> ... <unit>' from a question, knowing only the given spellings per unit."""

    _QUANTITY = re.compile(r"(-?\d+(?:\.\d+)?)\s*$")

    def __init__(self, spellings: Mapping[str, Sequence[str]]) -> None:
        self.alias = {a: unit for unit, aliases in spellings.items() for a in aliases}
        words = "|".join(re.escape(a) for a in sorted(self.alias, key=len, reverse=True))
        self._unit = re.compile(rf"(?<![\w°])({words})(?!\w)")

    def parse(self, text: str) -> tuple[float, str, str] | None:
        """(value, source unit, target unit): the source unit directly follows a number."""
        value: float | None = None
        src: str | None = None
        mentioned: list[str] = []
        for m in self._unit.finditer(text):
            unit = self.alias[m.group(1)]
            number = self._QUANTITY.search(text[: m.start()])
            if src is None and number:
                value, src = float(number.group(1)), unit
            else:
                mentioned.append(unit)
        dst = next((u for u in mentioned if u != src), None)
        if value is None or src is None or dst is None:
            return None
        return value, src, dst
