"""What it costs to start using agentroute: each entry point run as a fresh Python process.

    python benchmarks/import_cost.py [--repeats 3]

Prints the median wall time and CPU time (user + system, which a busy machine inflates less) per case,
and whether torch was imported. Target on two idle cores: every case that does not train or route with
torch within 1.0 s, and none of those imports torch (checked here from ``sys.modules``; exit code 1 when
a light case imports it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]

# Each case runs after this prologue in a fresh interpreter; the epilogue reports what was imported.
_REPORT = (
    "import json, sys\njson.dump({m: m in sys.modules for m in ('torch', 'torch_geometric')}, open(sys.argv[1], 'w'))\n"
)


def _cli(*args: str) -> str:
    return (
        "import sys\nfrom agentroute.cli import app\n"
        f"try:\n    app({list(args)!r}, prog_name='agentroute')\nexcept SystemExit:\n    pass\n"
    )


def _ask(router: str, threads: bool = False) -> str:
    """Two agents, a small recorded history of two tasks, fit, one question: the embedding path end to end. With
    ``threads`` the script first chooses one torch thread, as an application should (agentroute.threads)."""
    setup = "from agentroute.threads import set_torch_threads\nset_torch_threads(1)\n" if threads else ""
    return (
        setup
        + f"""
from agentroute import AgentRoute, Query, RunRecord, AgentRecord, agent

@agent(name="adder", description="Adds numbers", skills=["arithmetic"])
def adder(q):
    a, b = [int(t) for t in q.text.rstrip("?").split() if t.isdigit()]
    return str(a + b)

@agent(name="echo", description="Repeats the question")
def echo(q):
    return q.text

runs = [
    RunRecord(qid=f"h{{i}}", question=f"What is {{i}} plus {{i + 1}}?", dataset="sums",
              agents={{"adder": AgentRecord(score=1.0), "echo": AgentRecord(score=0.0)}})
    for i in range(30)
] + [
    RunRecord(qid=f"e{{i}}", question=f"Say back the word number {{i}}", dataset="echoes",
              agents={{"adder": AgentRecord(score=0.0), "echo": AgentRecord(score=1.0)}})
    for i in range(30)
]
with AgentRoute([adder, echo], {router!r}) as ar:
    ar.record(runs)
    ar.fit()
    assert ar.ask("What is 20 plus 22?").text == "42"
"""
    )


CASES: list[tuple[str, str, bool]] = [
    # (label, code, light: must stay within the target and must not import torch)
    ("import agentroute", "import agentroute\n", True),
    ("from agentroute import AgentRoute, agent, Query", "from agentroute import AgentRoute, agent, Query\n", True),
    ("agentroute --help", _cli("--help"), True),
    ("agentroute routers", _cli("routers"), True),
    ("agentroute agents list", _cli("agents", "list"), True),
    ("AgentRoute(router='knn'): fit + ask one question", _ask("knn"), True),
    ("AgentRoute(router='per-task'): fit + ask one question", _ask("per-task", threads=True), False),
    ("AgentRoute(router='gnn'): fit + ask one question", _ask("gnn", threads=True), False),
]


def run_once(code: str, report: Path) -> tuple[float, float, dict[str, bool]]:
    """Wall and CPU seconds of one fresh process running ``code``, and whether it imported torch and
    torch_geometric."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code + _REPORT, str(report)],
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(report.read_text())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3, help="runs per case (the median is reported)")
    p.add_argument("--target", type=float, default=1.0, help="seconds allowed for a light case")
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        for label, code, light in CASES:
            runs = [run_once(code, report) for _ in range(args.repeats)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            torch_loaded = any(r[2]["torch"] for r in runs)
            pyg_loaded = any(r[2]["torch_geometric"] for r in runs)
            ok = (wall <= args.target and not torch_loaded) if light else None
            rows.append(
                {"case": label, "wall_s": wall, "cpu_s": cpu, "torch": torch_loaded, "torch_geometric": pyg_loaded}
                | {"light": light, "ok": ok}
            )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        table = Table(title=f"fresh-process cost (median of {args.repeats}; {os.cpu_count()} CPUs)")
        for col in ("case", "wall s", "CPU s", "imports torch", "torch_geometric", f"<= {args.target:g} s, no torch"):
            table.add_column(col, justify="left" if col == "case" else "right")
        for r in rows:
            verdict = "n/a (torch)" if r["ok"] is None else ("yes" if r["ok"] else "NO")
            imported = ["yes" if r[m] else "no" for m in ("torch", "torch_geometric")]
            table.add_row(r["case"], f"{r['wall_s']:.2f}", f"{r['cpu_s']:.2f}", *imported, verdict)
        Console().print(table)
    return 1 if any(r["light"] and r["torch"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
