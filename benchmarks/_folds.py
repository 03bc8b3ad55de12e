"""Shared by the GNN benchmarks: a routing log read as the replay benchmark sees it, with its 5 folds."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from agentroute.bench.logs import read_routing_log
from agentroute.bench.replay import make_folds, routing_view
from agentroute.types import RunRecord

DEFAULT_LOG = Path("../shared/data/routing_logs/more_reasoning_experts/unified_test.jsonl")


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every GNN benchmark takes: --log, --device, --embedder."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--log", type=Path, default=DEFAULT_LOG)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--embedder", default="hashing")
    return p


def split(rows: Sequence[RunRecord], fold_of: Sequence[int], fold: int) -> tuple[list[RunRecord], list[RunRecord]]:
    """(training rows, test rows) of one fold."""
    train = [r for r, f in zip(rows, fold_of, strict=True) if f != fold]
    return train, [r for r, f in zip(rows, fold_of, strict=True) if f == fold]


def load_folds(log: Path, folds: int = 5, seed: int = 0) -> tuple[list[RunRecord], list[int]] | None:
    """Rows (renamed and stripped like ``bench run`` does) and each row's fold; None when the log is absent."""
    if not log.exists():
        Console(stderr=True).print(f"skipped: {log} not found (run from the repository root next to ../shared/data)")
        return None
    rows = [routing_view(r, f"q{i:06d}") for i, r in enumerate(read_routing_log(log))]
    return rows, make_folds([r.question for r in rows], folds, seed=seed)
