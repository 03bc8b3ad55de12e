"""How fast the CLI rejects bad input, each command a fresh process (what a user waits for).

    python benchmarks/cli_fail_fast.py

Target (issue 14): every bad option is exit code 2, one line on stderr, in under 3 s. Prints one table:
the command, its exit code, how many stderr lines, and the wall seconds from process start to exit.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text


def cases(tmp: Path) -> list[list[str]]:
    log = tmp / "log.jsonl"
    log.write_text('{"qid": "q", "question": "What is 2 plus 2?", "agents": {"a": {"score": 1}}}\n')
    junk = tmp / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    return [
        ["ask", "hi", "--router", "nope"],
        ["ask", "hi", "--device", "tpu"],
        ["ask", "hi", "--model", str(tmp / "missing.pt")],
        ["ask", "hi", "--model", str(junk)],
        ["train", "--logs", str(log), "--out", str(tmp / "m.pt"), "--device", "cuda"],
        ["bench", "run", "--logs", str(tmp / "runs[test].jsonl")],
        ["bench", "run", "--logs", str(log), "--routers", "gnn,nope"],
        ["profile", "--data", str(tmp / "[/tmp]"), "--out", str(tmp / "out.jsonl")],
        ["kg", "stats", "--store", "nope://x"],
        ["serve", "--model", str(junk)],
    ]


def main() -> None:
    table = Table("command", "exit", "stderr lines", "seconds", title="agentroute: bad input, one process each")
    with tempfile.TemporaryDirectory() as folder:
        for args in cases(Path(folder)):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "agentroute.cli", *args], capture_output=True, text=True)
            seconds = time.perf_counter() - start
            shown = " ".join(a if len(a) < 40 else "…/" + Path(a).name for a in args)
            lines = len([line for line in done.stderr.splitlines() if line.strip()])
            table.add_row(Text(shown), str(done.returncode), str(lines), f"{seconds:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
