from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from agentroute.bench.logs import LogFormatError, drop_overlap, read_routing_log, split_records
from agentroute.testing.routing_log import synthetic_routing_log, write_routing_log

ROWS = [
    {
        "dataset": "nq",
        "qid": "nq-0",
        "split": "train",
        "question": "Who wrote Hamlet?",
        "gold": ["Shakespeare"],
        "agents": {
            "a": {"score": 1.0, "pred": "Shakespeare", "rf_router_score": 0.8},
            "b": {"score": 0, "pred": 7},
        },
    },
    {
        "dataset": "nq",
        "split": "test",
        "question": "Capital of France?",
        "gold": None,
        "agents": {"a": {"score": None}, "b": {"score": 0.5, "cost_usd": 0.002}},
        "metric": "em",
    },
]


def write(path: Path, rows: list, extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(r) for r in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_a_good_file_with_extras_and_derived_ids(tmp_path: Path) -> None:
    records = read_routing_log(write(tmp_path / "log.jsonl", ROWS, ("",)))
    assert [r.qid for r in records] == ["nq-0", "nq-2"]  # missing qid: dataset + line number
    first, second = records
    assert first.scores() == {"a": 1.0, "b": 0.0}
    assert first.agents["b"].pred == "7"  # non-string predictions become text
    assert first.agents["a"].model_extra == {"rf_router_score": 0.8}
    assert first.gold == ["Shakespeare"]
    assert second.scores() == {"b": 0.5}
    assert second.costs() == {"b": 0.002}
    assert second.model_extra["metric"] == "em"
    assert [r.qid for r in split_records(records, "test")] == ["nq-2"]
    assert split_records(records, "dev") == []


def test_reads_gzip_and_derives_ids_from_the_file_name_without_dataset(tmp_path: Path) -> None:
    path = tmp_path / "mylog.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"question": "q?", "agents": {"x": {"score": 1}}}) + "\n")
    (record,) = read_routing_log(path)
    assert record.qid == "mylog-1"
    assert record.scores() == {"x": 1.0}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object per line, got an array"),
        (json.dumps({"qid": "x", "agents": {}}), 'missing "question"'),
        (json.dumps({"question": 3, "agents": {}}), '"question" must be a string, got a number'),
        (json.dumps({"question": "q", "agents": [1]}), '"agents" is not an object'),
        (
            json.dumps({"question": "q", "agents": {"a": {"score": "high"}}}),
            'finite number (usually in [0, 1]) or null, got "high"',
        ),
        ('{"question": "q", "agents": {"a": {"score": NaN}}}', "finite number"),
        (json.dumps({"question": "q", "agents": {"a": {"score": True}}}), "got true (for right/wrong, write 1.0/0.0)"),
        (json.dumps({"question": "q", "agents": {"a": 0.5}}), 'expected an object like {"score": 0.5}, got a number'),
        (json.dumps({"question": "q", "agents": {"a": {"score": 1, "cost_usd": "$1"}}}), "'cost_usd'"),
        (json.dumps({"question": "q", "agents": {"bad name!": {"score": 1}}}), "valid agent name"),
        (
            json.dumps({"question": "q", "agents": {"a": {"score": 1, "cost_usd": -0.5}}}),
            "expected 'cost_usd' to be a non-negative number or null, got -0.5",
        ),
        (json.dumps({"question": "q", "agents": {"a": {"score": 1, "latency_s": -1}}}), "'latency_s'"),
        ('{"question": "broken \\udcff text", "agents": {"a": {"score": 1}}}', "escape without its pair"),
    ],
)
def test_bad_line_names_file_line_and_expectation(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path / "bad.jsonl", ROWS[:1], (line,))
    with pytest.raises(LogFormatError) as info:
        read_routing_log(path)
    message = str(info.value)
    assert f"{path}:2:" in message
    assert expected in message
    assert isinstance(info.value, ValueError)


def test_drop_overlap_ignores_case_and_spacing(tmp_path: Path) -> None:
    train = read_routing_log(write(tmp_path / "a.jsonl", ROWS))
    test_rows = [
        dict(ROWS[0], qid="t1", question="who  wrote HAMLET?"),
        dict(ROWS[0], qid="t2", question="New?"),
    ]
    test = read_routing_log(write(tmp_path / "b.jsonl", test_rows))
    kept, dropped = drop_overlap(test, train)
    assert [r.qid for r in kept] == ["t2"]
    assert dropped == 1


def test_reads_a_gzipped_log_of_four_experts(tmp_path: Path) -> None:
    plain = write_routing_log(tmp_path / "log.jsonl", synthetic_routing_log(600))
    path = tmp_path / "log.jsonl.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    records = read_routing_log(path)
    assert len(records) == 600
    assert all(set(r.agents) == {"factual", "multihop", "math", "commonsense"} for r in records)
    assert len({r.qid for r in records}) == len(records)


def test_escaped_surrogate_pairs_are_text(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.jsonl", [], ('{"question": "smile \\ud83d\\ude00", "agents": {"a": {"score": 1}}}',))
    assert read_routing_log(path)[0].question == "smile \U0001f600"


def test_an_empty_log_is_an_error_naming_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(LogFormatError, match=r"empty.jsonl: no rows; expected one JSON object per line"):
        read_routing_log(empty)
