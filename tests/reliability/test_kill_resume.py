"""Kill and resume: ``profile``, ``bench run`` and ``quickstart`` are SIGKILLed mid-run, resumed, and must
end with exactly one row per unit of work and the results of an uninterrupted run with the same seed."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import complete_lines, kill_after_rows, run_inproc, running, stop_after_rows

TORN = b'{"router": "knn", "qid": "q-torn", "sco'  # what a kill in the middle of a write leaves


def rows_of(path: Path, drop: tuple[str, ...] = ("seconds",)) -> list[dict[str, Any]]:
    """The file's rows without the fields that measure time (those differ between any two runs)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


def by_key(rows: list[dict[str, Any]], *fields: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    keys = Counter(tuple(r[f] for f in fields) for r in rows)
    duplicated = [k for k, n in keys.items() if n > 1]
    assert not duplicated, f"rows written twice: {duplicated[:5]}"
    return {tuple(r[f] for f in fields): r for r in rows}


def write_routing_log(path: Path, n: int = 32) -> Path:
    """A routing log where 'math' is right on arithmetic, 'trivia' on the rest, 'guesser' never."""
    lines = []
    for i in range(n):
        arithmetic = i % 2 == 0
        gold = str(2 * i + 1) if arithmetic else f"author {i}"
        agents = {
            "math": {"score": float(arithmetic), "pred": gold if arithmetic else "0"},
            "trivia": {"score": float(not arithmetic), "pred": "unknown" if arithmetic else gold},
            "guesser": {"score": 0.0, "pred": f"guess {i}"},
        }
        text = f"What is {i} plus {i + 1}?" if arithmetic else f"Who wrote book number {i} of the saga?"
        lines.append(json.dumps({"qid": f"t{i}", "question": text, "gold": [gold], "agents": agents}))
    path.write_text("\n".join(lines) + "\n")
    return path


def kill_resume_and_compare(args: list[str], expected_rows: int, tmp_path: Path) -> Path:
    """Run ``args`` uninterrupted; run it again, SIGKILL it after its first batch, leave a torn line as a
    kill mid-write would, resume it; the resumed folder must hold the uninterrupted run's rows, once each."""
    code, full_json, err = run_inproc(*args, "--out", str(tmp_path / "full"))
    assert code == 0, err
    out = tmp_path / "killed"
    at_kill = kill_after_rows([*args, "--out", str(out)], out / "results.jsonl", 1, cwd=tmp_path)
    assert 0 < at_kill < expected_rows
    with (out / "results.jsonl").open("ab") as f:
        f.write(TORN)
    code, resumed_json, err = run_inproc(*args, "--out", str(out), "--resume")
    assert code == 0, err
    got = by_key(rows_of(out / "results.jsonl"), "router", "qid")
    want = by_key(rows_of(tmp_path / "full" / "results.jsonl"), "router", "qid")
    assert len(got) == expected_rows and got == want
    assert json.loads(resumed_json) == json.loads(full_json)
    return out


def test_bench_run_killed_mid_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    log = write_routing_log(tmp_path / "log.jsonl")
    routers = "gnn,knn,mlp,best-single,all,random,oracle"
    options = json.dumps({"gnn": {"epochs": 8, "ensemble": 1}})
    args = [
        "bench",
        "run",
        "--logs",
        str(log),
        "--folds",
        "2",
        "--routers",
        routers,
        "--options",
        options,
        "--seed",
        "3",
        "--json",
    ]
    kill_resume_and_compare(args, 32 * 7, tmp_path)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from Linux /proc")
def test_bench_run_with_worker_processes_stopped_by_ctrl_c_leaves_no_worker_and_resumes(tmp_path: Path) -> None:
    """``--jobs 2``: Ctrl-C (to the whole process group, as a terminal sends it) stops the workers at once
    and exits 130; the rows already scored are in results.jsonl and ``--resume`` ends with the
    uninterrupted run's rows. (A parent killed outright: ``tests/bench/test_fold_pool.py``.)"""
    log = write_routing_log(tmp_path / "log.jsonl")
    options = json.dumps({"gnn": {"epochs": 40, "ensemble": 2}})
    args = ["bench", "run", "--logs", str(log), "--folds", "2", "--jobs", "2", "--routers", "knn,gnn,oracle"]
    args += ["--options", options, "--seed", "3", "--json"]
    assert run_inproc(*args, "--out", str(tmp_path / "full"))[0] == 0
    out = tmp_path / "stopped"
    stopped = stop_after_rows([*args, "--out", str(out)], out / "results.jsonl", 1, tmp_path, signal.SIGINT, True)
    assert stopped.returncode == 130 and stopped.seconds < 10  # the workers were not waited for
    assert 0 < stopped.lines < 32 * 3 and stopped.children
    deadline = time.monotonic() + 10  # the workers are reaped before the exit; multiprocessing's resource
    while any(running(pid) for pid in stopped.children) and time.monotonic() < deadline:  # tracker follows
        time.sleep(0.1)
    assert not any(running(pid) for pid in stopped.children)
    assert run_inproc(*args, "--out", str(out), "--resume")[0] == 0
    got = by_key(rows_of(out / "results.jsonl"), "router", "qid")
    assert got == by_key(rows_of(tmp_path / "full" / "results.jsonl"), "router", "qid")


def test_quickstart_killed_mid_run_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    args = ["quickstart", "--train", "20", "--test", "24", "--seed", "1", "--json"]
    out = kill_resume_and_compare(args, 8 * 24, tmp_path)
    assert json.loads((out / "report.json").read_text())["results"][0]["scores"] == [
        r["score"] for r in rows_of(out / "results.jsonl") if r["router"] == "gnn"
    ]


SLOW_POOL = """
import time
from agentroute import agent

@agent(name="adder", description="adds")
def adder(q):
    time.sleep(0.1)
    a, b = (int(t) for t in q.text.replace("?", "").split() if t.isdigit())
    return str(a + b)

@agent(name="echo", description="echoes")
def echo(q):
    time.sleep(0.1)
    return q.text
"""


def test_profile_killed_mid_run_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    pool = tmp_path / "pool.py"
    pool.write_text(SLOW_POOL)
    data = tmp_path / "qa.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "question": f"What is {i} + {i}?", "answer": str(2 * i)}) + "\n"
            for i in range(40)
        )
    )
    args = ["profile", "--data", str(data), "--agents", str(pool), "--json"]
    full_dir, out = tmp_path / "full", tmp_path / "killed"
    full_dir.mkdir()
    out.mkdir()
    assert run_inproc(*args, "--out", str(full_dir))[0] == 0

    at_kill = kill_after_rows([*args, "--out", str(out)], out / "results.jsonl", 1, cwd=tmp_path)
    assert 0 < at_kill < 40
    with (out / "results.jsonl").open("ab") as f:
        f.write(b'{"qid": "q39", "question": "What is 39 +')
    code, resumed_json, err = run_inproc(*args, "--out", str(out), "--resume")
    assert code == 0, err
    assert json.loads(resumed_json)["skipped"] == at_kill

    def cells(path: Path) -> dict[tuple[Any, ...], dict[str, Any]]:
        rows = rows_of(path)
        for r in rows:
            for cell in r["agents"].values():
                cell.pop("latency_s", None)
        return by_key(rows, "qid")

    got, want = cells(out / "results.jsonl"), cells(full_dir / "results.jsonl")
    assert len(got) == 40 and got == want
    assert all(r["agents"]["adder"]["score"] == 1.0 for r in got.values())


def test_resume_refuses_another_runs_folder(tmp_path: Path) -> None:
    log = write_routing_log(tmp_path / "log.jsonl", n=24)
    args = ["bench", "run", "--logs", str(log), "--folds", "2", "--routers", "knn,oracle", "--out", str(tmp_path)]
    assert run_inproc(*args, "--seed", "1")[0] == 0
    code, _, err = run_inproc(*args, "--seed", "2", "--resume")
    assert code == 2
    assert "a run with other settings" in err and "seed=1" in err and "Traceback" not in err
    assert complete_lines(tmp_path / "results.jsonl") == 24 * 2  # the first run's rows are untouched

    (tmp_path / "results.jsonl").write_bytes(b'{"router": "knn", "row": 0}\nnot json\n{"router": "knn"}\n')
    code, _, err = run_inproc(*args, "--seed", "1", "--resume")
    assert code == 2 and f"{tmp_path / 'results.jsonl'}:2:" in err


def test_resume_refuses_a_changed_log_and_a_new_run_refuses_an_unfinished_one(tmp_path: Path) -> None:
    """``profile --resume`` grows the log a bench run read: resuming that bench run would score its kept
    rows against other questions. And a plain re-run must not drop a killed run's rows."""
    log = write_routing_log(tmp_path / "log.jsonl", n=24)
    out = tmp_path / "out"
    args = ["bench", "run", "--logs", str(log), "--folds", "2", "--routers", "knn,oracle", "--out", str(out)]
    assert run_inproc(*args)[0] == 0
    (out / "report.json").unlink()  # as if killed before the report
    write_routing_log(log, n=30)
    code, _, err = run_inproc(*args, "--resume")
    assert code == 2 and f"--resume: --logs {log} changed since this run started in {out}" in err
    code, _, err = run_inproc(*args)
    assert code == 2 and "unfinished run (48 rows, no report): pass --resume" in err
    assert complete_lines(out / "results.jsonl") == 48
    assert run_inproc(*args, "--force")[0] == 0
    assert complete_lines(out / "results.jsonl") == 60 and complete_lines(out / "unfinished" / "results.jsonl") == 48
