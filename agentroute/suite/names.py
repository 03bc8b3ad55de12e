"""Unique made-up names for the generated world, built from syllables so no real entity is implied."""

from __future__ import annotations

import random
from collections.abc import Callable

_ONSETS = (
    "b",
    "d",
    "f",
    "g",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "dr",
    "kr",
    "tr",
    "th",
    "sh",
)
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ei", "ou")
_CODAS = ("", "", "", "n", "r", "l", "s", "th", "m")

_SUFFIXES = {
    "city": ("burg", "ford", "port", "ton", "vale", "holm", "mouth", "grad"),
    "country": ("ia", "land", "stan", "ora", "ene"),
    "company": (" Labs", " Corp", " Systems", " Industries", " Works", " Group", " Dynamics"),
    "currency": ("o", "ar", "ira", "et"),
}

#: Words the question templates use: a name must never be one of them (keeps parsing unambiguous).
_RESERVED = frozenset((
    "in", "is", "of", "the", "a", "an", "and", "or", "who", "what", "when", "where", "which", "how",
    "many", "much", "by", "for", "to", "from", "at", "on", "it", "its",
))  # fmt: skip


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))


class NameMaker:
    """Hands out names unique across every kind of entity, first words included (so a name is never
    a prefix of another and mentions are unambiguous)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.words: set[str] = set()

    def _fresh(self, make: Callable[[], str]) -> str:
        for _ in range(1000):
            name = make()
            tokens = name.lower().split()
            if name.lower() in self.used or tokens[0] in _RESERVED or tokens[0] in self.words:
                continue
            self.used.add(name.lower())
            self.words.add(tokens[0])
            return name
        raise RuntimeError("could not find a fresh name")  # pragma: no cover - syllable space is large

    def person(self) -> str:
        def make() -> str:
            first = _word(self.rng, self.rng.choice((1, 2))).capitalize()
            last = _word(self.rng, self.rng.choice((2, 3))).capitalize()
            return f"{first} {last}"

        return self._fresh(make)

    def place(self, kind: str) -> str:
        """A city, country or company name (kind selects the suffix)."""

        def make() -> str:
            stem = _word(self.rng, self.rng.choice((1, 2)))
            name = stem + self.rng.choice(_SUFFIXES[kind])
            return name if kind == "currency" else name[0].upper() + name[1:]

        return self._fresh(make)
