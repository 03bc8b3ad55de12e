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
    assert set(ResultsLog(tmp_path, lambda r: r["qid"], now, resume=True).done) == {"a"}
    with pytest.raises(ResultsFileError, match="--logs x.jsonl changed since this run started"):
        ResultsLog(tmp_path, lambda r: r["qid"], {**now, "logs_sha256": "ffff"}, resume=True)
