"""A synthetic routing log shaped like the MoRE one: four expert agents, twelve question datasets, each
agent reliable on its own three datasets and weak elsewhere. Tests (and users trying ``bench run``
without data) get a log where routing matters, on a fresh clone, in milliseconds.

Wrong answers are drawn from two distractors per question, so wrong agents sometimes agree and a
majority vote can be wrong; every right answer is the gold answer, so EM recomputed from gold agrees
with the stored score.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from agentroute.types import AgentRecord, RunRecord

AGENTS: tuple[str, ...] = ("factual", "multihop", "math", "commonsense")

_SYLLABLES = ("ka", "lo", "mi", "ren", "to", "va", "shi", "dor", "el", "qu", "bra", "zin", "po", "fe", "lun")


def _word(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


# A fixed cast, so entities recur across questions (as people and places do in real benchmarks).
_CAST = random.Random(1234)
_NAMES = sorted({_word(_CAST, _CAST.choice((2, 3))) for _ in range(400)})
_PEOPLE = sorted({f"{_CAST.choice(_NAMES)} {_word(_CAST, 3)}" for _ in range(150)})


def _name(rng: random.Random) -> str:
    """A name from the cast: a city, a country, a pet, a book."""
    return rng.choice(_NAMES)


def _person(rng: random.Random) -> str:
    return rng.choice(_PEOPLE)


Template = Callable[[random.Random], tuple[str, str]]


def _sums(r: random.Random) -> tuple[str, str]:
    a, b = r.randint(10, 999), r.randint(10, 999)
    return f"What is {a} plus {b}?", str(a + b)


def _products(r: random.Random) -> tuple[str, str]:
    a, b = r.randint(2, 99), r.randint(2, 99)
    return f"What is {a} times {b}?", str(a * b)


def _word_math(r: random.Random) -> tuple[str, str]:
    who, a, b = _name(r), r.randint(2, 60), r.randint(2, 60)
    return f"{who} has {a} apples and buys {b} more. How many apples does {who} have?", str(a + b)


def _older(r: random.Random) -> tuple[str, str]:
    a, b = _person(r), _person(r)
    return f"Who is older, {a} or {b}?", r.choice([a, b])


def _tools(r: random.Random) -> tuple[str, str]:
    task = r.choice(["cut", "fasten", "measure", "paint"])
    return f"What would {_name(r)} use to {task} a {_name(r).lower()}?", r.choice(["knife", "rope", "ruler", "brush"])


# dataset -> (the agent that is good at it, question/gold generator)
DATASETS: dict[str, tuple[str, Template]] = {
    "sums": ("math", _sums),
    "products": ("math", _products),
    "word-math": ("math", _word_math),
    "capitals": ("factual", lambda r: (f"What is the capital of {_name(r)}?", _name(r))),
    "inventors": ("factual", lambda r: (f"Who invented the {_name(r).lower()} engine?", _person(r))),
    "birth-years": ("factual", lambda r: (f"In which year was {_person(r)} born?", str(r.randint(1700, 2000)))),
    "author-birthplace": ("multihop", lambda r: (f"Where was the author of The {_name(r)} Chronicles born?", _name(r))),
    "ceo-city": ("multihop", lambda r: (f"In which city is the company led by {_person(r)} based?", _name(r))),
    "older": ("multihop", _older),
    "can-animals": ("commonsense", lambda r: (f"Can a {_name(r).lower()} swim?", r.choice(["yes", "no"]))),
    "tools": ("commonsense", _tools),
    "feelings": (
        "commonsense",
        lambda r: (f"How would {_name(r)} feel after losing the match?", r.choice(["sad", "upset"])),
    ),
}


def synthetic_routing_log(
    n: int = 400,
    seed: int = 0,
    *,
    expert_accuracy: float = 0.85,
    other_accuracy: float = 0.25,
    costs: Sequence[float] | None = None,
    split: str = "test",
) -> list[RunRecord]:
    """``n`` rows cycling through the twelve datasets; the dataset's expert is right with probability
    ``expert_accuracy``, every other agent with ``other_accuracy``. ``costs`` (one per agent, in
    ``AGENTS`` order) adds ``cost_usd`` to every cell, varying ±50% per row."""
    rng = random.Random(seed)
    names = list(DATASETS)
    rows: list[RunRecord] = []
    seen: set[str] = set()
    while len(rows) < n:
        dataset = names[len(rows) % len(names)]
        expert, template = DATASETS[dataset]
        question, gold = template(rng)
        if question in seen:
            continue
        seen.add(question)
        distractors = [f"{gold} {_word(rng).lower()}", _word(rng, 3)]
        agents: dict[str, AgentRecord] = {}
        for j, agent in enumerate(AGENTS):
            right = rng.random() < (expert_accuracy if agent == expert else other_accuracy)
            cost = None if costs is None else round(costs[j] * rng.uniform(0.5, 1.5), 6)
            agents[agent] = AgentRecord(
                score=1.0 if right else 0.0, pred=gold if right else rng.choice(distractors), cost_usd=cost
            )
        rows.append(
            RunRecord(
                dataset=dataset,
                qid=f"{dataset}-{len(rows):05d}",
                split=split,
                question=question,
                gold=[gold],
                agents=agents,
            )
        )
    return rows


def write_routing_log(path: str | Path, records: Sequence[RunRecord]) -> Path:
    """Write records as a unified routing log (JSON lines), the format ``read_routing_log`` reads."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r.model_dump(mode="json", exclude_none=True)) + "\n")
    return path
