"""What ``agentroute train`` costs on a whole routing log: seconds, epochs per ensemble member, the checkpoint's
size and the seconds to load it back.

Why a separate script from ``gnn_training.py`` (one MoRE fold, the model alone): on a large log the time goes
to everything around the model too (the task prior's classifier, the guard's held-out fit, saving), and a
user waits for all of it. One CPU thread, as the CLI uses.

    .venv/bin/python benchmarks/train_time.py --log ../shared/data/routing_logs/routellm_2llm/unified_all.jsonl
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agentroute.commands import train_gnn
from agentroute.routers.registry import load_router
from agentroute.threads import set_torch_threads

MEMBER = re.compile(r"ensemble member (\d+)/\d+: (\d+) epochs \(best (\d+)\)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--log", required=True, help="routing log (JSONL) to train on")
    p.add_argument("--embedder", default="hashing")
    args = p.parse_args(argv)
    if not Path(args.log).is_file():
        print(f"{args.log}: not found", file=sys.stderr)
        return 1
    set_torch_threads(1)
    err = Console(stderr=True)
    start = time.perf_counter()
    events: list[tuple[float, str]] = []

    def progress(message: str) -> None:
        events.append((time.perf_counter() - start, message))
        if not message.startswith("query graphs"):
            err.print(f"{events[-1][0]:7.1f}s {message}", highlight=False)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "router.pt"
        summary = train_gnn(out, logs=Path(args.log), embedder=args.embedder, device="cpu", progress=progress)
        size_mb = out.stat().st_size / 1e6
        t = time.perf_counter()
        load_router("gnn", out, device="cpu")  # as `ask --model` loads it
        load_s = time.perf_counter() - t
    members = [MEMBER.match(m) for _, m in events]
    epochs = " ".join(f"{m.group(2)}({m.group(3)})" for m in members if m)
    table = Table(title=f"agentroute train on {Path(args.log).name} (1 CPU thread)")
    columns = ("questions", "agents", "train (s)", "epochs (best) per member", "MB", "load (s)")
    for col in columns:
        table.add_column(col, justify="right")
    table.add_row(
        str(summary["questions"]),
        str(summary["agents"]),
        f"{summary['seconds']:.0f}",
        epochs,
        f"{size_mb:.1f}",
        f"{load_s:.2f}",
    )
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
