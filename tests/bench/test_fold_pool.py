"""``bench run --jobs N``: folds in worker processes give the very report one process gives, keep the
results log resumable, and bring their progress back. Real spawned processes, real routers."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agentroute.bench.fold_pool import WorkerDied, run_in_processes
from agentroute.bench.replay import run_replay_benchmark
from agentroute.bench.report import BenchReport
from agentroute.bench.resultlog import ResultsLog
from agentroute.routers import registry as registry_module
from agentroute.routers.baselines import BestSingleRouter, decide
from agentroute.routers.registry import register_router
from agentroute.testing.routing_log import synthetic_routing_log
from agentroute.types import QueryGraph, RoutingDecision, RunRecord

ROUTERS = ["gnn", "gnn-top1", "knn", "mlp", "per-task", "last-agent", "best-single", "oracle"]
GNN = {"ensemble": 1, "epochs": 4}
OPTIONS = {"gnn": GNN | {"guard": False}, "gnn-top1": GNN, "mlp": {"epochs": 15}}  # bare gnn: sets of agents


class LastAgent(BestSingleRouter):
    """Always the alphabetically last candidate: a router registered by the caller, not built in."""

    name = "last-agent"

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return decide(self.name, {a: float(i) for i, a in enumerate(sorted(graph.agent_names))}, 1, self.temperature)


@pytest.fixture
def last_agent_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registered in this process only (a private copy of the registry, gone after the test)."""
    monkeypatch.setattr(registry_module, "_ROUTERS", dict(registry_module._ROUTERS))
    register_router("last-agent", LastAgent)


def figures(report: BenchReport) -> dict[str, Any]:
    """Everything in the report but the timings."""
    data = report.model_dump()
    data.pop("seconds_graphs")
    for r in data["results"]:
        r.pop("seconds")
    return data


def bench(records: list[RunRecord], jobs: int, **kwargs: Any) -> BenchReport:
    return run_replay_benchmark(
        records, folds=3, routers=ROUTERS, router_options=OPTIONS, sweep=True, jobs=jobs, **kwargs
    )


def test_folds_in_worker_processes_give_the_same_report_and_a_resumable_log(
    tmp_path: Path, last_agent_registered: None
) -> None:
    records = synthetic_routing_log(240, seed=3, expert_accuracy=0.6, other_accuracy=0.4, costs=[1.0, 2.0, 3.0, 4.0])
    one = bench(records, jobs=1)
    messages: list[str] = []
    log = ResultsLog(tmp_path, lambda r: (r["router"], r["row"]), {"run": 1}, resume=False)
    two = bench(records, jobs=2, progress=messages.append, results_log=log)

    assert figures(two) == figures(one)
    assert one.result("last-agent").accuracy != one.result("best-single").accuracy  # it really routed
    assert one.curves and one.result("gnn").calls_per_query > 1  # sets, early stops and curves all compared
    assert "running 3 folds in 2 worker processes" in messages
    assert {f"fold {k}/3 gnn: " for k in (1, 2, 3)} <= {m[: len("fold 1/3 gnn: ")] for m in messages}

    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert sorted((r["router"], r["row"]) for r in rows) == sorted((n, i) for n in ROUTERS for i in range(240))
    resumed = ResultsLog(tmp_path, lambda r: (r["router"], r["row"]), {"run": 1}, resume=True)
    again = run_replay_benchmark(records, folds=3, routers=ROUTERS, router_options=OPTIONS, jobs=2, results_log=resumed)
    assert [r.scores for r in again.results] == [r.scores for r in one.results]
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == len(rows)  # nothing scored twice


def fails_on_fold_one(plan: str, item: int, say: Any) -> int:
    say(f"{plan} {item}")
    if item == 1:
        raise ValueError(f"item {item} is bad")
    return item * 10


def test_a_failing_item_raises_in_the_caller_with_its_own_error() -> None:
    said: list[str] = []
    got: list[int] = []
    with pytest.raises(ValueError, match="item 1 is bad") as info:
        for result in run_in_processes(fails_on_fold_one, "work", [0, 1], 1, said.append):
            got.append(result)
    assert got == [0]  # one worker: item 0 finished and came back before item 1 failed
    assert "work 0" in said
    assert "in fails_on_fold_one" in "".join(info.value.__notes__)


def dies_or_sleeps(plan: str, item: int, emit: Any) -> int:
    emit(os.getpid())
    if item == 0:
        os._exit(3)  # as if killed: no result, no error
    time.sleep(60)
    return item


def test_a_vanished_worker_is_an_error_and_the_other_workers_are_stopped() -> None:
    started = time.monotonic()
    with pytest.raises(WorkerDied, match=r"fold 1 ended without a result \(exit code 3"):
        list(run_in_processes(dies_or_sleeps, "work", [0, 1], 2, print, lambda i: f"fold {i + 1}"))
    assert multiprocessing.active_children() == []  # the sleeping one was stopped and reaped
    assert time.monotonic() - started < 20  # not waited for


def quick_then_slow(plan: str, item: int, emit: Any) -> int:
    if item > 0:
        time.sleep(60)
    return item


def test_a_caller_that_stops_early_leaves_no_worker_behind() -> None:
    results = run_in_processes(quick_then_slow, "work", [0, 1, 2], 3, print)
    assert next(results) == 0
    started = time.monotonic()
    results.close()  # what a break out of the loop, or an exception in it, does
    assert multiprocessing.active_children() == []
    assert time.monotonic() - started < 10


def sleeper(plan: str, item: int, emit: Any) -> int:
    emit(os.getpid())
    time.sleep(60)
    return item


ORPHANED = """
import sys
sys.path.insert(0, {here!r})
from agentroute.bench.fold_pool import run_in_processes
from test_fold_pool import sleeper
for _ in run_in_processes(sleeper, "work", [0, 1], 2, lambda pid: print(pid, flush=True)):
    pass
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from Linux /proc")
def test_workers_exit_on_their_own_when_their_parent_is_killed() -> None:
    script = ORPHANED.format(here=str(Path(__file__).parent))
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        workers = [int(parent.stdout.readline()) for _ in range(2)]
        parent.kill()  # SIGKILL: no cleanup runs in the parent
        parent.wait()
        deadline = time.monotonic() + 5
        while any(running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(running(pid) for pid in workers)
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (Linux ``/proc``)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
