from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from agentroute.bench.datasets import DatasetFormatError, read_qa


def test_jsonl_with_answer_lists_and_ids(tmp_path: Path) -> None:
    p = tmp_path / "nq.jsonl"
    p.write_text(
        json.dumps({"id": "a", "question": "who wrote hamlet", "golden_answers": ["Shakespeare", "W. S."]})
        + "\n\n"
        + json.dumps({"question": "is water wet", "answer": True, "context": [{"title": "W", "text": "Water."}]})
        + "\n"
    )
    qs = read_qa(p)
    assert [q.id for q in qs] == ["a", "nq-3"]
    assert qs[0].gold == ["Shakespeare", "W. S."]
    assert qs[1].gold == ["yes"] and qs[1].context == ["W: Water."]


def test_gsm8k_answers_keep_the_final_number(tmp_path: Path) -> None:
    p = tmp_path / "gsm.jsonl"
    p.write_text(json.dumps({"question": "2+2?", "answer": "two and two\n#### 1,004"}) + "\n")
    assert read_qa(p)[0].gold == ["1004"]


def test_csv_and_json_lists(tmp_path: Path) -> None:
    c = tmp_path / "b.csv"
    c.write_text('Question,Answer\n"Who, really?",me\n')
    assert read_qa(c)[0].text == "Who, really?" and read_qa(c)[0].gold == ["me"]
    j = tmp_path / "h.json"
    j.write_text(json.dumps([{"question": "q1", "answer": "a1"}, {"question": "q2", "answer": "a2"}]))
    assert [q.gold for q in read_qa(j, limit=1)] == [["a1"]]
    bad = tmp_path / "bad.csv"
    bad.write_text('question,answer\n"What is 2+3?",5\n"unterminated,6\n')  # read, it would be a question
    with pytest.raises(DatasetFormatError, match=r"bad.csv:\d+: not readable CSV \(unexpected end of data\)"):
        read_qa(bad)


@pytest.mark.parametrize(
    ("line", "expected"),
    [("{bad", "invalid JSON"), (json.dumps({"answer": "x"}), "expected a non-empty question"), ("[1, 2]", "object")],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps({"question": "fine", "answer": "ok"}) + "\n" + line + "\n")
    with pytest.raises(DatasetFormatError, match=rf"bad.jsonl:2: .*{expected}"):
        read_qa(p)


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match="no/such.jsonl"):
        read_qa("no/such.jsonl")


def test_reads_gzipped_jsonl_with_ids_and_a_limit(tmp_path: Path) -> None:
    rows = [{"question": f"who wrote book {i}", "answer": [f"author {i}"]} for i in range(60)]  # NQ-open shape
    path = tmp_path / "nq.dev.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    qs = read_qa(path, limit=50)
    assert [q.text for q in qs] == [f"who wrote book {i}" for i in range(50)]
    assert qs[7].gold == ["author 7"]
    assert len({q.id for q in qs}) == 50


def test_a_json_document_error_names_its_line_and_a_jsonl_error_its_real_column(tmp_path: Path) -> None:
    doc = tmp_path / "qa.json"
    doc.write_text('[\n {"question": "a", "answer": "b"},\n {"question": "c" "answer": "d"}\n]\n')
    with pytest.raises(
        DatasetFormatError, match=r"qa.json: invalid JSON \(Expecting ',' delimiter at line 3, column 19\)"
    ):
        read_qa(doc)
    lines = tmp_path / "qa.jsonl"
    lines.write_text('{"question": "a", "answer": "b"}\n{"question": "c", "answer": "d"\n')
    with pytest.raises(DatasetFormatError, match=r"qa.jsonl:2: invalid JSON \(Expecting ',' delimiter at column 32\)"):
        read_qa(lines)
