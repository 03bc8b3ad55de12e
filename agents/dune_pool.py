"""Two tiny tool agents, the pool the README's LLM-router examples route between."""

from agentroute import Query, agent


@agent(name="calculator", description="Evaluates arithmetic such as 12 * 7.")
def calculator(q: Query) -> str:
    a, op, b = q.text.replace("?", "").split()[-3:]
    return str(int(a) * int(b)) if op == "*" else "unsupported"


@agent(name="librarian", description="Knows who wrote which book.")
def librarian(q: Query) -> str:
    return "Frank Herbert" if "Dune" in q.text else "unknown"
