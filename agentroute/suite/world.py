"""A small seeded world (people, cities, countries, companies) for the offline suite.

It is the ground truth behind the suite's questions, the knowledge the lookup agents (partially) hold,
the passages the reader reads, and the entity graph loaded into a ``GraphStore``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentroute.suite.names import NameMaker

if TYPE_CHECKING:
    from agentroute.kg.store import GraphStore

#: Attributes per entity type. Values are strings: names, ISO dates or plain integers.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "person": ("city", "employer", "born", "height"),
    "city": ("country", "population", "founded"),
    "country": ("capital", "currency", "continent"),
    "company": ("founded", "hq", "ceo", "employees"),
}

#: Attributes whose value is another entity, and that entity's type (the edges a two-hop question follows).
LINKS: dict[tuple[str, str], str] = {
    ("person", "city"): "city",
    ("person", "employer"): "company",
    ("city", "country"): "country",
    ("country", "capital"): "city",
    ("company", "hq"): "city",
    ("company", "ceo"): "person",
}

CONTINENTS = ("Aurelis", "Nortavia", "Sudmera")


@dataclass(frozen=True)
class Country:
    name: str
    capital: str
    currency: str
    continent: str


@dataclass(frozen=True)
class City:
    name: str
    country: str
    population: int
    founded: int


@dataclass(frozen=True)
class Person:
    name: str
    born: dt.date
    height: int
    employer: str
    city: str


@dataclass(frozen=True)
class Company:
    name: str
    founded: int
    hq: str
    ceo: str
    employees: int


@dataclass
class World:
    """The generated world. ``facts[name][attr]`` is the true value of every attribute, as a string."""

    seed: int
    countries: list[Country]
    cities: list[City]
    people: list[Person]
    companies: list[Company]
    facts: dict[str, dict[str, str]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    passages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def generate(
        cls,
        seed: int = 0,
        n_people: int = 60,
        n_cities: int = 25,
        n_countries: int = 10,
        n_companies: int = 20,
    ) -> World:
        """Build a world deterministically from ``seed``."""
        rng = random.Random(f"agentroute-world-{seed}")
        names = NameMaker(rng)
        country_names = [names.place("country") for _ in range(n_countries)]
        city_names = [names.place("city") for _ in range(n_cities)]
        city_country = [country_names[i] if i < n_countries else rng.choice(country_names) for i in range(n_cities)]
        cities = [
            City(name, ctry, int(10 ** rng.uniform(4.3, 6.7)), rng.randint(800, 1900))
            for name, ctry in zip(city_names, city_country, strict=True)
        ]
        countries = [
            Country(name, city_names[i], names.place("currency"), rng.choice(CONTINENTS))
            for i, name in enumerate(country_names)
        ]
        person_names = [names.person() for _ in range(n_people)]
        company_names = [names.place("company") for _ in range(n_companies)]
        ceos = rng.sample(person_names, n_companies)
        employer = {p: rng.choice(company_names) for p in person_names}
        employer.update(zip(ceos, company_names, strict=True))
        start = dt.date(1940, 1, 1).toordinal()
        people = [
            Person(
                p,
                dt.date.fromordinal(start + rng.randint(0, 23000)),
                rng.randint(150, 200),
                employer[p],
                rng.choice(city_names),
            )
            for p in person_names
        ]
        companies = [
            Company(name, rng.randint(1850, 2020), rng.choice(city_names), ceo, int(10 ** rng.uniform(1.7, 5.3)))
            for name, ceo in zip(company_names, ceos, strict=True)
        ]
        world = cls(seed, countries, cities, people, companies)
        world._index(rng)
        return world

    def _index(self, rng: random.Random) -> None:
        for p in self.people:
            self._add(p.name, "person", city=p.city, employer=p.employer, born=p.born.isoformat(), height=p.height)
        for city in self.cities:
            self._add(city.name, "city", country=city.country, population=city.population, founded=city.founded)
        for country in self.countries:
            self._add(
                country.name, "country", capital=country.capital, currency=country.currency, continent=country.continent
            )
        for company in self.companies:
            self._add(
                company.name,
                "company",
                founded=company.founded,
                hq=company.hq,
                ceo=company.ceo,
                employees=company.employees,
            )
        for name, kind in self.types.items():
            self.passages[name] = render_passage(name, kind, self.facts[name], rng.randrange(2))

    def _add(self, name: str, kind: str, **attrs: Any) -> None:
        self.types[name] = kind
        self.facts[name] = {k: str(v) for k, v in attrs.items()}

    def names_of(self, kind: str) -> list[str]:
        """Entity names of one type, in generation order."""
        return [n for n, t in self.types.items() if t == kind]

    def entity_rows(self) -> list[dict[str, Any]]:
        """Rows for ``GraphStore.upsert_nodes("Entity", rows)``."""
        return [{"id": n.lower(), "name": n, "type": t} for n, t in self.types.items()]

    def relation_rows(self) -> list[dict[str, Any]]:
        """Rows for ``GraphStore.upsert_edges("RELATED", rows)``: the world's entity-to-entity links."""
        rows: list[dict[str, str]] = []

        def link(src: str, dst: str, kind: str) -> None:
            rows.append({"src": src.lower(), "dst": dst.lower(), "kind": kind})

        for p in self.people:
            link(p.name, p.city, "lives_in")
            link(p.name, p.employer, "works_for")
        for city in self.cities:
            link(city.name, city.country, "located_in")
        for country in self.countries:
            link(country.capital, country.name, "capital_of")
        for company in self.companies:
            link(company.ceo, company.name, "ceo_of")
            link(company.name, company.hq, "headquartered_in")
        return rows

    def load_into(self, store: GraphStore) -> tuple[int, int]:
        """Write the world's entities and relations into ``store``; returns (nodes, edges) written."""
        return store.upsert_nodes("Entity", self.entity_rows()), store.upsert_edges("RELATED", self.relation_rows())


_TEMPLATES: dict[str, tuple[str, str]] = {
    "person": (
        "{n} was born on {born}. {n} is {height} cm tall, lives in {city} and works for {employer}.",
        "Born on {born}, {n} stands {height} cm tall. {n} makes a home in {city} and is employed by {employer}.",
    ),
    "city": (
        "{n} is a city in {country}, founded in {founded}. It has a population of {population}.",
        "Founded in {founded}, {n} lies in {country} and is home to {population} people.",
    ),
    "country": (
        "{n} is a country in {continent}. Its capital is {capital} and its currency is the {currency}.",
        "The {currency} is the currency of {n}, a country in {continent} whose capital city is {capital}.",
    ),
    "company": (
        "{n} was founded in {founded} and is headquartered in {hq}. Its CEO is {ceo} and it has {employees} employees.",
        "Based in {hq}, {n} was established in {founded}. Chief executive {ceo} leads its {employees} employees.",
    ),
}


def render_passage(name: str, kind: str, facts: dict[str, str], variant: int) -> str:
    """A short encyclopedia-style passage about one entity (two phrasings, so readers must generalise)."""
    return _TEMPLATES[kind][variant].format(n=name, **facts)
