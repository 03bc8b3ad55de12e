"""Terminal output for the CLI: user text printed literally, one line per message, progress on stderr.

Why: paths, questions, agent names and answers are the user's text, and rich reads ``[...]`` as markup
(``[/tmp]`` even crashes it) while control characters rewrite the terminal. Everything user-supplied
goes through ``literal`` (a ``Text``: never parsed as markup, control characters shown as escapes), and
messages are printed without wrapping so one message stays one line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from agentroute.secrets import redact

# Piped output gets 120 columns (rich would wrap tables at 80), a terminal keeps its own width.
out = Console() if sys.stdout.isatty() else Console(width=120)
err = Console(stderr=True, soft_wrap=True, highlight=False)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(value: Any, one_line: bool = False) -> str:
    """``str(value)`` with control characters (and, for ``one_line``, newlines and tabs) as escapes."""
    pattern = _CONTROL_OR_NEWLINE if one_line else _CONTROL
    return pattern.sub(lambda m: repr(m.group())[1:-1], str(value))


def literal(value: Any, style: str = "", one_line: bool = False) -> Text:
    """User text as a rich ``Text``: printed exactly, never read as markup."""
    return Text(clean(value, one_line), style=style)


def table(*columns: str, title: str | None = None, rows: Iterable[Iterable[Any]] = ()) -> Table:
    """A table whose title and cells are literal text."""
    t = Table(*columns, title=literal(title) if title is not None else None)
    for row in rows:
        t.add_row(*(literal(cell) for cell in row))
    return t


def add_row(t: Table, *cells: Any) -> None:
    t.add_row(*(literal(cell) for cell in cells))


def say(text: Any, style: str = "") -> None:
    """One literal line on stdout."""
    out.print(literal(text, style), soft_wrap=True)


def error_line(kind: str, message: Any) -> None:
    """``kind: message`` on stderr, on exactly one line, without secrets (``secrets.py``)."""
    err.print(Text.assemble((f"{kind}:", "red"), " ", literal(redact(str(message)), one_line=True)))


def progress_printer(enabled: bool = True) -> Callable[[str], None]:
    """Progress messages on stderr (dim, one line each); ``warning:`` lines are shown even when not enabled
    (``--json`` keeps stdout for the JSON, not stderr for what went wrong)."""

    def show(msg: str) -> None:
        if enabled or msg.startswith("warning:"):
            err.print(literal(redact(msg), "dim", one_line=True))

    return show
