"""A tiny arithmetic tokenizer and recursive-descent parser, so the calculator never needs ``eval``.

Grammar: expr := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)* ;
unary := '-' unary | power ; power := atom ('^' unary)? ; atom := NUMBER | '(' expr ')'.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(\*\*|[-+*/^()×÷]))")
_OPS = {"**": "^", "×": "*", "÷": "/"}
_MAX_POWER = 64.0


class ExpressionError(ValueError):
    """The text is not an arithmetic expression this parser accepts."""


def tokenize(text: str) -> list[str]:
    """Split an expression into number and operator tokens; anything else is an error."""
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExpressionError(f"unexpected character {text[pos:].lstrip()[:1]!r}")
        number, op = m.groups()
        tokens.append(number if number is not None else _OPS.get(op, op))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ExpressionError("unexpected end of expression")
        self.i += 1
        return tok

    def expr(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self) -> float:
        value = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            rhs = self.unary()
            if op == "/" and rhs == 0:
                raise ExpressionError("division by zero")
            value = value * rhs if op == "*" else value / rhs
        return value

    def unary(self) -> float:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self.peek() == "^":
            self.take()
            exp = self.unary()
            if abs(exp) > _MAX_POWER:
                raise ExpressionError("exponent too large")
            return float(base**exp)
        return base

    def atom(self) -> float:
        tok = self.take()
        if tok == "(":
            value = self.expr()
            if self.take() != ")":
                raise ExpressionError("missing ')'")
            return value
        if tok[0].isdigit():
            return float(tok)
        raise ExpressionError(f"unexpected {tok!r}")


def evaluate(expression: str) -> float:
    """Value of an arithmetic expression with + - * / ^ and parentheses (raises ``ExpressionError``)."""
    tokens = tokenize(expression)
    if not tokens:
        raise ExpressionError("empty expression")
    parser = _Parser(tokens)
    value = parser.expr()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r}")
    return value


_WORD_OPS = tuple(
    (re.compile(pat, re.IGNORECASE), sym)
    for pat, sym in (
        (r"\bmultiplied by\b", "*"),
        (r"\bdivided by\b", "/"),
        (r"\btimes\b", "*"),
        (r"\bplus\b", "+"),
        (r"\bminus\b", "-"),
        (r"\bover\b", "/"),
        (r"\bto the power of\b", "^"),
    )
)
_SPAN = re.compile(r"-?[\d(][\d\s.+\-*/^()×÷]*[\d)]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def extract_expression(text: str) -> str | None:
    """The longest run of arithmetic in a sentence (operator words turned into symbols), if any."""
    for pattern, symbol in _WORD_OPS:
        text = pattern.sub(symbol, text)
    spans = [m.group(0) for m in _SPAN.finditer(text) if len(_NUMBER.findall(m.group(0))) >= 2]
    return max(spans, key=len).strip() if spans else None
