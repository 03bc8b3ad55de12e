"""What durable execution costs per question: the router graph with no checkpointer, SQLite and PostgreSQL,
next to LangGraph's own floor (a one-node graph) under the same checkpointers, measured in the same run.

Every question runs on a fresh thread (as a new conversation would). The router is knn fitted on the
built-in suite's training questions; the questions are the suite's test split. PostgreSQL is
``POSTGRES_URI`` when set, else a throw-away local cluster (``agentroute.testing.postgres_server``);
without PostgreSQL binaries that row is left out and the reason printed.

    python benchmarks/checkpoint_overhead.py [--n 200] [--train 300] [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypedDict

from rich.console import Console
from rich.table import Table

from agentroute import AgentRoute, build_suite
from agentroute.testing.postgres_server import PostgresUnavailable, start_postgres


class Echo(TypedDict, total=False):
    question: str
    answer: str


def floor_graph() -> Any:
    """LangGraph's floor: one node that copies the question (the least a checkpointed run can cost)."""
    from langgraph.graph import END, START, StateGraph

    g = StateGraph(Echo)
    g.add_node("echo", lambda s: {"answer": s["question"]})
    g.add_edge(START, "echo")
    g.add_edge("echo", END)
    return g


@contextmanager
def savers(stack: ExitStack, workdir: Path) -> Iterator[dict[str, Any]]:
    """name -> checkpointer (None = no checkpointing); PostgreSQL only when a server can be had."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    out: dict[str, Any] = {"none": None}
    out["sqlite"] = stack.enter_context(SqliteSaver.from_conn_string(str(workdir / "checkpoints.sqlite")))
    uri = os.environ.get("POSTGRES_URI")
    if uri is None:
        try:
            uri, stop = start_postgres()
            stack.callback(stop)
        except PostgresUnavailable as e:
            print(f"postgres: skipped ({e})", file=sys.stderr)
    if uri is not None:
        from langgraph.checkpoint.postgres import PostgresSaver

        pg = stack.enter_context(PostgresSaver.from_conn_string(uri))
        pg.setup()
        out["postgres"] = pg
    yield out


def per_question_ms(graph: Any, questions: list[str], repeats: int) -> float:
    """Median over ``repeats`` of the mean wall time per question, each question on a new thread."""
    means = []
    for _ in range(repeats):
        start = time.perf_counter()
        for q in questions:
            graph.invoke({"question": q}, {"configurable": {"thread_id": uuid.uuid4().hex}})
        means.append((time.perf_counter() - start) / len(questions) * 1e3)
    return statistics.median(means)


def measure(build: Callable[[Any], Any], saver_map: dict[str, Any], questions: list[str], repeats: int) -> dict:
    graphs = {name: build(cp) for name, cp in saver_map.items()}
    for g in graphs.values():  # warm-up: imports, lazily built caches, connection setup
        per_question_ms(g, questions[:5], 1)
    return {name: per_question_ms(g, questions, repeats) for name, g in graphs.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200, help="questions timed (the suite's test split)")
    p.add_argument("--train", type=int, default=300, help="training questions the router is fitted on")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args(argv)
    # LangGraph warns on every load of a type it has not been told about; that is noise in a timing run.
    logging.getLogger("langgraph.checkpoint.serde.jsonplus").setLevel(logging.ERROR)

    suite = build_suite(seed=0, n_test=max(args.n, 10))
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        ar = stack.enter_context(AgentRoute(suite.agents, "knn"))
        suite.world.load_into(ar.store)
        ar.profile(suite.train[: args.train])
        ar.fit()
        questions = [q.text for q in suite.test[: args.n]]
        saver_map = stack.enter_context(savers(stack, Path(tmp)))
        router = measure(lambda cp: ar.as_graph().compile(checkpointer=cp), saver_map, questions, args.repeats)
        floor = measure(lambda cp: floor_graph().compile(checkpointer=cp), saver_map, questions, args.repeats)

    rows = [
        {
            "checkpointer": name,
            "agentroute_ms": round(router[name], 3),
            "agentroute_overhead_ms": round(router[name] - router["none"], 3),
            "floor_ms": round(floor[name], 3),
            "floor_overhead_ms": round(floor[name] - floor["none"], 3),
        }
        for name in router
    ]
    if args.json:
        print(json.dumps({"n": len(questions), "repeats": args.repeats, "rows": rows}))
        return 0
    table = Table(
        "checkpointer", "agentroute ms/question", "overhead", "LangGraph floor ms", "floor overhead",
        title=f"checkpointing cost per question ({len(questions)} questions, median of {args.repeats} runs)",
    )  # fmt: skip
    for r in rows:
        table.add_row(
            r["checkpointer"], f"{r['agentroute_ms']:.2f}", f"{r['agentroute_overhead_ms']:+.2f}",
            f"{r['floor_ms']:.2f}", f"{r['floor_overhead_ms']:+.2f}",
        )  # fmt: skip
    Console(width=120).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
