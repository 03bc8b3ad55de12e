"""A new run into a folder that holds a finished one: the old run is set aside, never mixed or lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentroute.bench.resultlog import ResultsFileError, ResultsLog


def test_a_new_run_sets_the_previous_one_aside_and_leaves_other_files(tmp_path: Path) -> None:
    first = ResultsLog(tmp_path, lambda r: r["qid"], {"run": 1}, resume=False)
    first.append([{"qid": "a"}, {"qid": "b"}])
    (tmp_path / "report.json").write_text('{"run": 1}')
    (tmp_path / "accuracy_vs_calls.png").write_bytes(b"png")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "figure.png").write_bytes(b"mine")

    second = ResultsLog(tmp_path, lambda r: r["qid"], {"run": 2}, resume=False)  # killed after one row
    second.append([{"qid": "c"}])

    assert [json.loads(x)["qid"] for x in (tmp_path / "results.jsonl").read_text().splitlines()] == ["c"]
    assert not (tmp_path / "report.json").exists() and not (tmp_path / "accuracy_vs_calls.png").exists()
    previous = tmp_path / "previous"
    assert json.loads((previous / "report.json").read_text()) == {"run": 1}
    assert [json.loads(x)["qid"] for x in (previous / "results.jsonl").read_text().splitlines()] == ["a", "b"]
    assert json.loads((previous / "run.json").read_text()) == {"run": 1}
    assert (tmp_path / "notes.txt").read_text() == "mine" and not (previous / "notes.txt").exists()
    assert (tmp_path / "figure.png").read_bytes() == b"mine"

    # an unfinished run (rows, no report) is most likely meant to be resumed: refused without force
    with pytest.raises(ResultsFileError, match=r"unfinished run \(1 rows, no report\): pass --resume"):
        ResultsLog(tmp_path, lambda r: r["qid"], {"run": 3}, resume=False)
    assert [json.loads(x)["qid"] for x in (tmp_path / "results.jsonl").read_text().splitlines()] == ["c"]
    third = ResultsLog(tmp_path, lambda r: r["qid"], {"run": 3}, resume=False, force=True)
    third.append([{"qid": "d"}])  # the unfinished run's rows are set aside too, never deleted ...
    assert [json.loads(x)["qid"] for x in (tmp_path / "results.jsonl").read_text().splitlines()] == ["d"]
    unfinished = tmp_path / "unfinished"
    assert [json.loads(x)["qid"] for x in (unfinished / "results.jsonl").read_text().splitlines()] == ["c"]
    assert json.loads((unfinished / "run.json").read_text()) == {"run": 2}
    # ... and the last finished run stays where it was
    assert json.loads((previous / "report.json").read_text()) == {"run": 1}
    assert [json.loads(x)["qid"] for x in (previous / "results.jsonl").read_text().splitlines()] == ["a", "b"]


def test_a_run_described_before_inputs_were_fingerprinted_resumes(tmp_path: Path) -> None:
    old = ResultsLog(tmp_path, lambda r: r["qid"], {"logs": "x.jsonl"}, resume=False)
    old.append([{"qid": "a"}])
    now = {"logs": "x.jsonl", "logs_sha256": "538c15dced890ec2"}
    resumed = ResultsLog(tmp_path, lambda r: r["qid"], now, resume=True)
    assert set(resumed.done) == {"a"}
    resumed.start()  # run.json now holds the fingerprint
    with pytest.raises(ResultsFileError, match="--logs x.jsonl changed since this run started"):
        ResultsLog(tmp_path, lambda r: r["qid"], {**now, "logs_sha256": "ffff"}, resume=True)


def test_a_run_refused_for_its_input_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    """``bench run`` with bad input (folds beyond a six-question log, a missing selector file) or
    ``quickstart`` with an unreadable store, into a folder holding a finished run: the error, and the
    finished run where it was (it was moved to previous/ before the input was checked)."""
    from typer.testing import CliRunner

    from agentroute.cli import app

    log = tmp_path / "log.jsonl"
    rows = [{"qid": f"q{i}", "question": f"{i} + 2?", "gold": ["x"], "agents": {"a": {"score": 1.0}}} for i in range(6)]
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out"
    finished = ResultsLog(out, lambda r: r["qid"], {"run": 1}, resume=False)
    finished.append([{"qid": "a"}])
    (out / "report.json").write_text('{"run": 1}')
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    refused = {
        "folds must be between 2 and": ["--folds", "9"],
        "missing.json": ["--folds", "2", "--aggregator-options", '{"selector": "missing.json"}'],
    }
    for why, args in refused.items():
        result = CliRunner().invoke(app, ["bench", "run", "--logs", str(log), *args, "--out", str(out)])
        assert result.exit_code == 2 and why in result.output, result.output
        assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
        assert "moved the previous run" not in result.output

    store = tmp_path / "not-a-store.json"
    store.write_text("{")  # quickstart refuses an unreadable store before the folder changes
    result = CliRunner().invoke(app, ["quickstart", "--store", f"file:{store}", "--out", str(out), "--train", "20"])
    assert result.exit_code == 2 and str(store) in result.output, result.output
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
