"""Define agents in Python, profile them on labelled questions, train a router, ask questions.

python examples/define_agents.py
"""

from __future__ import annotations

import asyncio

from agentroute import Agent, AgentRoute, Query, agent

CAPITALS = {"France": "Paris", "Japan": "Tokyo", "Kenya": "Nairobi", "Peru": "Lima", "Norway": "Oslo"}


@agent(name="adder", description="Adds the numbers in a question.", skills=["arithmetic", "sum"])
def adder(q: Query) -> str:
    numbers = [float(t) for t in q.text.replace("?", " ").split() if t.replace(".", "", 1).isdigit()]
    total = sum(numbers)
    return str(int(total)) if total.is_integer() else str(total)


@agent(name="atlas", description="Knows the capital city of a few countries.", skills=["geography", "capitals"])
async def atlas(q: Query) -> str:
    await asyncio.sleep(0.01)  # async agents are awaited; sync ones run on a thread pool
    return next((city for country, city in CAPITALS.items() if country in q.text), "I don't know")


class Shouter(Agent):
    """A stateful agent: subclass Agent and override run (or async arun)."""

    def __init__(self) -> None:
        super().__init__(name="shouter", description="Repeats the question loudly.", skills=["echo"])
        self.calls = 0

    def run(self, query: Query) -> str:
        self.calls += 1
        return query.text.upper()


train = [Query(id=f"add{i}", text=f"What is {i} plus {2 * i}?", gold=[str(3 * i)]) for i in range(1, 9)]
train += [Query(id=f"cap-{c}", text=f"What is the capital of {c}?", gold=[city]) for c, city in CAPITALS.items()]

ar = AgentRoute([adder, atlas, Shouter()], router="knn", k=1)
ar.profile(train)  # run every agent once per question, score against gold, record in the graph store
ar.fit()  # train the router on the recorded history

for question in ["What is 40 plus 2?", "What is the capital of Japan?"]:
    answer = ar.ask(question)
    probs = ", ".join(f"{a}={p:.2f}" for a, p in sorted(answer.decision.probs.items()))
    print(f"{question!r:35} -> {answer.text!r:8} via {answer.decision.selected} ({probs})")
