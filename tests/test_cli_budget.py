"""`bench run --sweep` and `agentroute calibrate` from the command line, on small generated logs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from agentroute.bench.curve_report import curve_groups
from agentroute.cli import app
from agentroute.types import AgentRecord, RunRecord

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def two_agent_log(path: Path, n: int = 120, costs: bool = True) -> Path:
    """'cheap' is right on easy arithmetic only; 'dear' is right on nearly everything and costs 10x more."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(n):
        easy = i % 2 == 0
        text = f"What is {i} plus one?" if easy else f"Which poet wrote the ballad of harbour {i}?"
        agents = {
            "cheap": AgentRecord(score=float(easy and rng.random() < 0.9), cost_usd=0.001 if costs else None),
            "dear": AgentRecord(score=float(rng.random() < 0.85), cost_usd=0.01 if costs else None),
        }
        lines.append(RunRecord(qid=f"c{i}", question=text, agents=agents).model_dump_json(exclude_none=True))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bench_run_sweep_reports_curves_aiq_and_apgr(tmp_path: Path) -> None:
    log = two_agent_log(tmp_path / "log.jsonl")
    out_dir = tmp_path / "rep"
    code, stdout, stderr = run(
        "bench", "run", "--logs", str(log), "--folds", "2", "--routers", "knn,best-single,random",
        "--sweep", "--out", str(out_dir), "--json",
    )  # fmt: skip
    assert code == 0, stderr
    summary = json.loads(stdout)
    curves = summary["curves"]
    assert set(curves) == {"knn", "best-single", "random"}
    assert curves["knn"]["apgr"] > curves["random"]["apgr"]  # knn knows which questions need the dear agent
    assert curves["knn"]["cpt50"] < curves["random"]["cpt50"]
    assert curves["knn"]["aiq"] >= curves["random"]["aiq"]
    knn = next(r for r in summary["results"] if r["router"] == "knn")
    assert knn["vs_best_single"]["low"] <= knn["vs_best_single"]["diff"] <= knn["vs_best_single"]["high"]
    assert (out_dir / "curves.png").exists() and (out_dir / "pgr.png").exists()
    drawn = dict(curve_groups(json.loads((out_dir / "report.json").read_text())["curves"]["routers"]))
    assert set(drawn) == {"knn", "best-single", "random"}  # different curves: one line each
    same = {"calls_curve": [{"calls": 1.0, "accuracy": 0.5}], "cost_curve": [{"cost": 0.1, "accuracy": 0.5}]}
    other = {"calls_curve": [{"calls": 1.0, "accuracy": 0.6}], "cost_curve": [{"cost": 0.1, "accuracy": 0.6}]}
    groups = curve_groups({"gnn": same, "gnn-top1": dict(same), "knn": other})
    assert [name for name, _ in groups] == ["gnn = gnn-top1", "knn"]
    assert "Cost–quality sweep" in (out_dir / "report.md").read_text()


def test_bench_run_sweep_draws_the_cost_curve_when_some_agent_skipped_questions(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in two_agent_log(tmp_path / "full.jsonl").read_text().splitlines()]
    for i, r in enumerate(rows):
        if i % 4 in (1, 3):  # each agent skipped every fourth question: none answered every question
            del r["agents"]["cheap" if i % 4 == 1 else "dear"]
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out_dir = tmp_path / "rep"
    code, stdout, stderr = run(
        "bench", "run", "--logs", str(log), "--folds", "2", "--routers", "knn,best-single",
        "--sweep", "--out", str(out_dir), "--json",
    )  # fmt: skip
    assert code == 0, stderr
    curves = json.loads(stdout)["curves"]
    assert 0 < curves["knn"]["aiq"] <= 1 and 0 < curves["best-single"]["aiq"] <= 1
    report = json.loads((out_dir / "report.json").read_text())["curves"]
    assert report["cost_range"][0] == pytest.approx(0.001) and report["cost_range"][1] == pytest.approx(0.01)
    assert "random_mixing" not in report
    md = (out_dir / "report.md").read_text()
    assert "no random mixing (fewer than two agents answered every question)" in md
    assert "not every call has a dollar cost" not in md


def test_calibrate_writes_the_cost_weight_into_the_checkpoint(tmp_path: Path) -> None:
    from agentroute.commands import load_router
    from agentroute.routers.fallback import GuardedRouter

    log = two_agent_log(tmp_path / "log.jsonl")
    ckpt = tmp_path / "model.pt"
    code, stdout, stderr = run(
        "calibrate", "--logs", str(log), "--target-cost", "0.004", "--out", str(ckpt),
        "--epochs", "3", "--device", "cpu", "--json",
    )  # fmt: skip
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["setting"] == "cost_weight" and summary["target_met"]
    assert abs(summary["held_out_cost_per_question"] - 0.004) <= 0.0004
    assert summary["held_out_questions"] == 24  # the guard's 20% slice (--folds N cross-fits)
    router = load_router("gnn", ckpt, device="cpu")
    assert isinstance(router, GuardedRouter)
    assert router.cost_weight == summary["value"] != 0
    assert router.target_cost == 0.004  # batches of questions are paced to it
    assert router.cost_model is not None and router.cost_model.agents == ["cheap", "dear"]


def test_calibrate_target_calls_sets_the_mass_of_a_router_that_selects_by_mass(tmp_path: Path) -> None:
    from agentroute.commands import load_router

    log = two_agent_log(tmp_path / "log.jsonl")
    ckpt = tmp_path / "model.pt"
    base = ["calibrate", "--logs", str(log), "--epochs", "3", "--device", "cpu", "--json"]
    code, stdout, stderr = run(*base, "--target-calls", "1.5", "--out", str(ckpt))
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["setting"] == "mass" and summary["target_met"] and summary["held_out_agents_per_question"] <= 1.5
    assert load_router("gnn", ckpt, device="cpu").inner.mass == summary["value"]
    code, _, stderr = run(*base, "--target-calls", "1.5", "--out", str(tmp_path / "top1.pt"), "--router", "gnn-top1")
    assert code == 2 and "selects a fixed number of agents" in stderr, stderr


def test_calibrate_rejects_bad_budgets(tmp_path: Path) -> None:
    log = two_agent_log(tmp_path / "log.jsonl", n=60, costs=False)
    out = str(tmp_path / "m.pt")
    code, _, stderr = run("calibrate", "--logs", str(log), "--out", out)
    assert code == 2 and "--target-cost" in stderr
    code, _, stderr = run("calibrate", "--logs", str(log), "--out", out, "--target-cost", "1", "--target-calls", "2")
    assert code == 2 and "exactly one" in stderr
    for calls in ("0.5", "0", "nan"):  # fewer than one agent per question cannot be met
        code, _, stderr = run("calibrate", "--logs", str(log), "--out", out, "--target-calls", calls)
        assert code == 2 and f"--target-calls must be a number of at least 1, got {float(calls)}" in stderr, stderr
    code, _, stderr = run("calibrate", "--logs", str(log), "--out", out, "--target-cost", "0.01", "--epochs", "2")
    assert code == 2 and "for calls of cheap, dear: give --prices FILE" in stderr
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"Cheap": {"per_call": 0.001}, "dear": {"per_call": 0.01}}))  # one misspelt
    code, _, stderr = run(
        "calibrate", "--logs", str(log), "--out", out, "--target-cost", "0.01", "--prices", str(prices)
    )
    assert (
        code == 2
        and "--prices has no price for cheap (it names Cheap, which is no agent of the log: a typo?)" in stderr
    )
    code, _, stderr = run("calibrate", "--logs", str(log), "--out", out, "--target-calls", "1.5", "--folds", "500")
    assert code == 2 and "--folds 500: more folds than the log's 60 distinct scored questions" in stderr
