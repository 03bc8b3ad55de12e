"""How long budget pacing takes: a batch (`pace`) and a stream (`StreamPacer.pick`, window of 100, each
question then charged its cost as `ask` and the server do: `StreamPacer.charge`).

    python benchmarks/pacing_speed.py

Random probabilities and costs (every agent a candidate: the most work). Prints one table.
"""

from __future__ import annotations

import time

import numpy as np
from rich.console import Console
from rich.table import Table

from agentroute.routers.pacing import STREAM_WINDOW, StreamPacer, pace


def questions(n: int, k: int, seed: int) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    rng = np.random.default_rng(seed)
    names = [f"agent-{j}" for j in range(k)]
    probs = [dict(zip(names, rng.dirichlet(np.ones(k)).tolist(), strict=True)) for _ in range(n)]
    costs = [dict(zip(names, rng.uniform(1e-5, 1e-3, k).tolist(), strict=True)) for _ in range(n)]
    return probs, costs


def main() -> int:
    table = Table(title="budget pacing: time per call (best of 3)")
    for h in ("agents", "pace: 1,000 questions at once", f"stream: one question (window {STREAM_WINDOW})"):
        table.add_column(h, justify="right")
    for k in (2, 11, 40):
        probs, costs = questions(1000, k, seed=k)
        batch = min(_batch(probs, costs) for _ in range(3))
        stream = min(_stream(probs[:400], costs[:400]) for _ in range(3))
        table.add_row(str(k), f"{1000 * batch:.1f} ms", f"{1000 * stream:.2f} ms")
    Console().print(table)
    return 0


def _batch(probs: list[dict[str, float]], costs: list[dict[str, float]]) -> float:
    start = time.perf_counter()
    pace(probs, costs, 5e-4, 1e-3)
    return time.perf_counter() - start


def _stream(probs: list[dict[str, float]], costs: list[dict[str, float]]) -> float:
    """Mean seconds per question once the window is full."""
    pacer = StreamPacer(5e-4, 1e-3)
    for i, (p, c) in enumerate(zip(probs[:STREAM_WINDOW], costs[:STREAM_WINDOW], strict=True)):
        pacer.charge(i, 1.2 * c[pacer.pick(p, c, key=i)[1]])  # type: ignore[index]
    rest = list(enumerate(zip(probs[STREAM_WINDOW:], costs[STREAM_WINDOW:], strict=True), start=STREAM_WINDOW))
    start = time.perf_counter()
    for i, (p, c) in rest:
        pacer.charge(i, 1.2 * c[pacer.pick(p, c, key=i)[1]])  # type: ignore[index]
    return (time.perf_counter() - start) / len(rest)


if __name__ == "__main__":
    raise SystemExit(main())
