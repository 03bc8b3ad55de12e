"""Your own agents, from definition to a trained router (the README's "Your own agents, zero to trained").

This file is an agent pool: ``agentroute agents list --agents examples/your_own_agents.py``. Each agent is
good at one kind of question and says so in its description, so routing works from the first question
(by description) and gets better once the pool is profiled (by history). Run it to write the QA file the
walkthrough profiles on:

    python examples/your_own_agents.py mine/qa.jsonl
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from agentroute import Query, agent

# fmt: off
CAPITALS = {
    "France": "Paris", "Japan": "Tokyo", "Kenya": "Nairobi", "Peru": "Lima", "Norway": "Oslo",
    "Egypt": "Cairo", "Chile": "Santiago", "Canada": "Ottawa", "Spain": "Madrid", "Italy": "Rome",
    "Ghana": "Accra", "Nepal": "Kathmandu", "Cuba": "Havana", "Iran": "Tehran", "Mali": "Bamako",
}
FRENCH = {
    "cat": "chat", "dog": "chien", "house": "maison", "bread": "pain", "water": "eau", "book": "livre",
    "apple": "pomme", "tree": "arbre", "sun": "soleil", "moon": "lune", "car": "voiture", "cheese": "fromage",
    "friend": "ami", "school": "école", "night": "nuit", "city": "ville",
}
# fmt: on
_ARITHMETIC = re.compile(r"(-?\d+)\s+(plus|minus|times)\s+(-?\d+)")


@agent(name="calculator", description="Does arithmetic on two numbers: plus, minus and times.", skills=["math"])
def calculator(q: Query) -> str:
    match = _ARITHMETIC.search(q.text)
    if match is None:
        return "I can only do arithmetic"
    a, op, b = int(match.group(1)), match.group(2), int(match.group(3))
    return str(a + b if op == "plus" else a - b if op == "minus" else a * b)


@agent(name="atlas", description="Knows the capital city of many countries.", skills=["geography"])
def atlas(q: Query) -> str:
    return next((city for country, city in CAPITALS.items() if country in q.text), "I don't know")


@agent(name="translator", description="Translates English words into French.", skills=["french", "translation"])
def translator(q: Query) -> str:
    words = re.findall(r"[a-z]+", q.text.lower())
    return next((FRENCH[w] for w in words if w in FRENCH), "je ne sais pas")


@agent(name="guesser", description="Answers any question quickly, often wrongly.", skills=["general"])
def guesser(q: Query) -> str:
    if "capital" in q.text:
        return "Paris"
    return "42"


def qa_rows() -> list[dict[str, object]]:
    """60 questions with gold answers; each agent knows only part of its own kind."""
    rows: list[dict[str, object]] = []
    for i in range(20):
        a, b = 3 + 7 * i % 41, 2 + 5 * i % 23
        op, value = [("plus", a + b), ("minus", a - b), ("times", a * b)][i % 3]
        rows.append({"id": f"math-{i}", "question": f"What is {a} {op} {b}?", "answer": str(value)})
    countries = [*CAPITALS, "Chad", "Fiji", "Laos", "Oman", "Togo"]
    capitals = {"Chad": "N'Djamena", "Fiji": "Suva", "Laos": "Vientiane", "Oman": "Muscat", "Togo": "Lomé"}
    for i, country in enumerate(countries):
        gold = CAPITALS.get(country) or capitals[country]
        rows.append({"id": f"capital-{i}", "question": f"What is the capital of {country}?", "answer": gold})
    words = [*FRENCH, "river", "window", "bird", "garden"]
    others = {"river": "rivière", "window": "fenêtre", "bird": "oiseau", "garden": "jardin"}
    for i, word in enumerate(words):
        gold = FRENCH.get(word) or others[word]
        rows.append({"id": f"french-{i}", "question": f"What is the French word for {word}?", "answer": gold})
    return rows


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "mine/qa.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = qa_rows()
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    print(f"wrote {len(rows)} questions to {path}")
