"""Shared by the GNN benchmarks: a routing log read as the replay benchmark sees it, with its 5 folds."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from agentroute.bench.logs import read_routing_log
from agentroute.bench.replay import make_folds, routing_view
from agentroute.types import RunRecord


def load_folds(log: Path, folds: int = 5, seed: int = 0) -> tuple[list[RunRecord], list[int]] | None:
    """Rows (renamed and stripped like ``bench run`` does) and each row's fold; None when the log is absent."""
    if not log.exists():
        Console(stderr=True).print(f"skipped: {log} not found (run from the repository root next to ../shared/data)")
        return None
    rows = [routing_view(r, f"q{i:06d}") for i, r in enumerate(read_routing_log(log))]
    return rows, make_folds([r.question for r in rows], folds, seed=seed)
