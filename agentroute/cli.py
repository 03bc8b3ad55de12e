"""The ``agentroute`` command line: a thin Typer shell over library functions.

Tables and progress go to stderr/stdout for people; ``--json`` prints exactly one JSON object on stdout.
Exit codes: 0 ok, 1 failure, 2 bad input (bad file, bad option, unreachable store).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Route questions to the right set of agents with a knowledge graph and a learned router.",
)
agents_app = typer.Typer(no_args_is_help=True, help="Inspect agent pools.")
kg_app = typer.Typer(no_args_is_help=True, help="Inspect and load the knowledge graph store.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmark routers on routing logs.")
app.add_typer(agents_app, name="agents")
app.add_typer(kg_app, name="kg")
app.add_typer(bench_app, name="bench")

out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

AGENTS_HELP = "Agent pool: a .py file or module path (default: the built-in suite's tool agents)."
STORE_HELP = "Graph store: memory, file:PATH, bolt://host:port, neo4j://…, neo4j+s://… (NEO4J_USER/NEO4J_PASSWORD)."


class BadInput(Exception):
    """Raised for user errors that should exit with code 2."""


def _bad_input_types() -> tuple[type[BaseException], ...]:
    from agentroute.agents.base import AgentDefinitionError
    from agentroute.agents.loading import AgentLoadError
    from agentroute.bench.logs import LogFormatError

    types: list[type[BaseException]] = [BadInput, AgentDefinitionError, AgentLoadError, LogFormatError]
    types += [FileNotFoundError, IsADirectoryError, PermissionError, ValueError]
    try:
        from agentroute.kg.stores.neo4j_store import StoreConnectionError

        types.append(StoreConnectionError)
    except ImportError:  # pragma: no cover - neo4j driver missing
        pass
    return tuple(types)


def handle_errors(fn: F) -> F:
    """One clear line instead of a traceback wall; exit 2 for bad input, 1 for anything else."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None
        except Exception as e:  # noqa: BLE001
            if os.environ.get("AGENTROUTE_DEBUG"):
                raise
            code = 2 if isinstance(e, _bad_input_types()) else 1
            kind = "error" if code == 2 else f"failed ({type(e).__name__})"
            err.print(f"[red]{kind}:[/red] {e}", markup=True, highlight=False)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def progress_printer(enabled: bool = True) -> Callable[[str], None]:
    def show(msg: str) -> None:
        if enabled:
            err.print(f"[dim]{msg}[/dim]", markup=True, highlight=False)

    return show


# --------------------------------------------------------------------------------------------------- agents


@agents_app.command("list")
@handle_errors
def agents_list(
    agents: str = typer.Option(None, "--agents", "-a", help=AGENTS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the agents of a pool with their descriptions and skills."""
    from agentroute.commands import load_pool

    pool = load_pool(agents)
    rows = [{"name": s.name, "description": s.description, "skills": list(s.skills)} for s in pool.specs]
    if as_json:
        print_json(rows)
        return
    table = Table("name", "description", "skills", title=f"{len(rows)} agents")
    for r in rows:
        table.add_row(r["name"], r["description"], ", ".join(r["skills"]))
    out.print(table)


# ---------------------------------------------------------------------------------------------------- ask


@app.command()
@handle_errors
def ask(
    question: str = typer.Argument(..., help="The question to answer."),
    agents: str = typer.Option(None, "--agents", "-a", help=AGENTS_HELP),
    router: str = typer.Option("knn", "--router", "-r", help="Router name (see `agentroute routers`)."),
    model: Path = typer.Option(None, "--model", "-m", help="A trained GNN checkpoint (from `agentroute train`)."),
    store: str = typer.Option("memory", "--store", help=STORE_HELP),
    k: int = typer.Option(None, "--k", help="Number of agents to call (default: the router's own rule)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the built-in suite and the router."),
    timeout: float = typer.Option(60.0, "--timeout", help="Per-agent timeout in seconds."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Answer one question: route it, run the chosen agents in parallel, aggregate."""
    from agentroute.commands import ask_one

    answer = ask_one(
        question,
        agents=agents,
        router=router,
        model=model,
        store=store,
        k=k,
        seed=seed,
        timeout_s=timeout,
        progress=progress_printer(not as_json),
    )
    d = answer.decision
    if as_json:
        print_json(
            {
                "answer": answer.text,
                "router": d.router,
                "selected": d.selected,
                "probs": d.probs,
                "rationale": d.rationale,
                "results": [{"agent": r.agent, "answer": r.answer, "error": r.error} for r in answer.results],
            }
        )
        return
    out.print(f"[bold]{answer.text or '(no answer)'}[/bold]")
    table = Table("agent", "prob", "chosen", "answer", title=f"router: {d.router}")
    by_agent = {r.agent: r for r in answer.results}
    for name, p in sorted(d.probs.items(), key=lambda kv: -kv[1]):
        r = by_agent.get(name)
        shown = "" if r is None else (r.answer if r.error is None else f"error: {r.error}")
        table.add_row(name, f"{p:.3f}", "yes" if name in d.selected else "", shown or "")
    out.print(table)
    if d.rationale:
        out.print(f"rationale: {d.rationale}")


@app.command()
@handle_errors
def routers() -> None:
    """List the registered routers."""
    from agentroute.routers import router_names

    for name in router_names():
        out.print(name)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
