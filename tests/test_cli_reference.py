"""docs/cli.md lists every command and option with its default and help, as the CLI declares them: this
test renders it from the CLI and fails when the file is stale. ``python tests/test_cli_reference.py``
rewrites the file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from agentroute.cli import app

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
_METAVARS = {"str": "TEXT", "int": "N", "float": "NUMBER", "Path": "PATH"}


def _commands(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path, command
        return
    for name, sub in subcommands.items():
        yield from _commands(sub, [*path, name])


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _option_row(param: Any) -> str:
    annotation = getattr(param.type_descriptor.annotation, "__name__", "TEXT")
    metavar = "" if param.is_flag else f" {_METAVARS.get(annotation, annotation.upper())}"
    names = ", ".join(f"`{o}{metavar}`" for o in param.opts) + "".join(f", `{o}`" for o in param.secondary_opts)
    if param.required:
        default = "required"
    elif param.is_flag:
        default = "on" if param.default else "off"
    else:
        default = "" if param.default is None else f"`{param.default}`"
    return f"| {names} | {default} | {_cell(param.help or '')} |"


def render() -> str:
    """The reference page: per command its usage line, its help's first paragraph and an option table."""
    lines = [
        "# Command reference",
        "",
        "Every `agentroute` command and option, as `--help` gives them (generated from the CLI by",
        "`python tests/test_cli_reference.py`; a test fails when this page is stale). The README shows each",
        "command in use.",
    ]
    for path, command in _commands(typer.main.get_command(app), ["agentroute"]):
        arguments = " ".join(p.name.upper() for p in command.params if not hasattr(p, "is_flag"))
        lines += ["", f"## `{' '.join(path)}{' ' + arguments if arguments else ''}`", ""]
        lines += [_cell((command.help or "").split("\n\n")[0]), ""]
        options = [p for p in command.params if hasattr(p, "is_flag") and not p.hidden]
        if options:
            lines += ["| option | default | what it does |", "|---|---|---|"]
            lines += [_option_row(p) for p in options]
    return "\n".join(lines) + "\n"


def test_the_command_reference_is_current() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), "run: python tests/test_cli_reference.py"


def test_every_option_has_help() -> None:
    commands = list(_commands(typer.main.get_command(app), ["agentroute"]))
    silent = [
        f"{' '.join(path)} {p.opts[0]}"
        for path, command in commands
        for p in command.params
        if hasattr(p, "is_flag") and not p.hidden and not (p.help or "").strip()
    ]
    assert len(commands) >= 15 and not silent, silent


if __name__ == "__main__":
    REFERENCE.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {REFERENCE}\n")
