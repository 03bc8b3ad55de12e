"""A small agent pool written the way a user would: ``agentroute ask --agents agents/toolbox.py``.

Self-contained: only the public ``agentroute.agents`` API and the standard library.
"""

from __future__ import annotations

import ast
import operator
import re

from agentroute.agents import Agent, agent
from agentroute.types import Query

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_EXPRESSION = re.compile(r"[\d\s.+\-*/()]*\d[\d\s.+\-*/()]*")


def _value(node: ast.AST) -> float:
    """Walk a parsed expression, allowing only numbers, + - * / and unary minus (no eval)."""
    if isinstance(node, ast.Expression):
        return _value(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_value(node.left), _value(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand)
    raise ValueError(f"unsupported expression: {ast.dump(node)[:40]}")


@agent(name="toolbox-calculator", description="Evaluates + - * / arithmetic in a question.", skills=["math"])
def calculator(query: Query) -> str | None:
    spans = [s.strip() for s in _EXPRESSION.findall(query.text) if re.search(r"\d\s*[-+*/]", s)]
    if not spans:
        return None
    value = _value(ast.parse(max(spans, key=len), mode="eval"))
    return str(int(value)) if value.is_integer() else f"{value:.4f}".rstrip("0")


@agent(name="echo", description="Repeats the question back (a baseline, never right).", skills=["testing"])
def echo(query: Query) -> str:
    return query.text


@agent(name="word-counter", description="Counts the words of the quoted text, or of the question.")
async def word_counter(query: Query) -> str:
    quoted = re.findall(r"[\"“']([^\"”']+)[\"”']", query.text)
    return str(len((quoted[0] if quoted else query.text).split()))


class Glossary(Agent):
    """Answers 'What does X mean?' from a small fixed glossary."""

    TERMS = {
        "gnn": "graph neural network",
        "kg": "knowledge graph",
        "em": "exact match",
        "llm": "large language model",
    }

    def __init__(self) -> None:
        super().__init__("glossary", "Expands abbreviations used in this project.", skills=["definitions"])

    def run(self, query: Query) -> str | None:
        m = re.search(r"what does (\w+) (?:mean|stand for)", query.text, re.IGNORECASE)
        return self.TERMS.get(m.group(1).lower()) if m else None


glossary = Glossary()
