"""User text is printed literally by every printing path: tables, progress lines, titles and messages show
markup-like text and brackets as typed, and control characters as visible escapes (never raw)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agentroute.cli import main

MARKUP = "[bold red]Adds[/] [link=x]numbers[/link]"
ANSWER = "[/tmp] done"
POOL = f"""
from agentroute import Query, agent

@agent(name="adder", description={MARKUP + " " + chr(27) + "[31m"!r}, skills=["[math]"])
def adder(q: Query) -> str:
    return {ANSWER!r} + chr(27) + "[2J"
"""


def run_main(args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["agentroute", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.fixture
def place(tmp_path: Path) -> Path:
    folder = tmp_path / "[b]work[/b]"
    folder.mkdir(parents=True)
    (folder / "pool.py").write_text(POOL)
    row = {"qid": "q1", "question": "What is [b]2[/b] plus 2?", "agents": {"adder": {"score": 1.0, "pred": "4"}}}
    (folder / "log[1].jsonl").write_text(json.dumps(row) + "\n" + json.dumps({**row, "qid": "q2"}) + "\n")
    other = {**row, "qid": "t1", "question": "What is [b]3[/b] plus 3?"}
    (folder / "test[1].jsonl").write_text(json.dumps(other) + "\n")
    qa = {"id": "a", "question": "[i]Sum[/i] 2 and 2?", "answer": "4"}
    (folder / "qa[1].jsonl").write_text(json.dumps(qa) + "\n")
    return folder


def squeeze(text: str) -> str:
    return "".join(text.split())


def no_raw_control(*texts: str) -> bool:
    return all("\x1b" not in t for t in texts)


def test_tables_show_descriptions_and_answers_literally(place, capsys, monkeypatch) -> None:
    pool = str(place / "pool.py")
    code, out, err = run_main(["agents", "list", "--agents", pool], capsys, monkeypatch)
    assert code == 0, err
    assert MARKUP in out and "\\x1b[31m" in out and "[math]" in out and no_raw_control(out, err)

    code, out, err = run_main(["ask", "What is [b]2[/b] plus 2?", "--agents", pool], capsys, monkeypatch)
    assert code == 0, err
    assert ANSWER + "\\x1b[2J" in out and no_raw_control(out, err)
    assert "rationale: cold start" in out and "cold start: no history in store memory for adder" in err

    code, out, err = run_main(["kg", "show", "[/tmp] and [b]x[/b]?", "--agents", pool], capsys, monkeypatch)
    assert code == 0, err
    assert "Query [/tmp] and [b]x[/b]?" in out and no_raw_control(out, err)


def test_titles_progress_and_reports_show_paths_literally(place, tmp_path, capsys, monkeypatch) -> None:
    log = place / "log[1].jsonl"
    store = f"file:{place / '[s].json'}"
    code, out, err = run_main(["kg", "ingest", "--logs", str(log), "--store", store], capsys, monkeypatch)
    assert code == 0, err
    assert f"read 2 questions from {log}" in err
    assert f"{log}->{store}" in squeeze(out)  # a long title wraps; its text is intact

    code, out, err = run_main(["kg", "stats", "--store", store], capsys, monkeypatch)
    assert code == 0 and f"store:{store}" in squeeze(out)

    args = ["bench", "run", "--logs", str(log), "--test-logs", str(place / "test[1].jsonl"), "--routers", "knn,all"]
    code, out, err = run_main([*args, "--out", str(place / "report[1]")], capsys, monkeypatch)
    assert code == 0, err
    assert "agentroutebench:log[1].jsonl" in squeeze(out) and f"report: {place / 'report[1]'}" in err

    runs = place / "runs[1].jsonl"
    args = ["profile", "--data", str(place / "qa[1].jsonl"), "--agents", str(place / "pool.py"), "--out", str(runs)]
    code, out, err = run_main(args, capsys, monkeypatch)
    assert code == 0, err
    assert "runs[1].jsonl" in out and "profiled 1/1 questions" in err and no_raw_control(out, err)
    assert json.loads(runs.read_text())["agents"]["adder"]["pred"] == ANSWER + "\x1b[2J"  # data stays exact
