"""Reading routing logs: the unified JSONL format (README, "Routing logs"), one question per line, plain or gzipped.

Every line is validated as it is read so a bad file fails with the file, the line and what was expected,
instead of a KeyError deep inside a benchmark run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentroute.textfile import TextFileError, parse_json, text_lines
from agentroute.types import AGENT_NAME_RE, AgentRecord, RunRecord

_NUMERIC_FIELDS = ("cost_usd", "latency_s", "steps", "tokens")


class LogFormatError(ValueError):
    """A routing-log line does not follow the unified format; the message names file and line."""


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _shown(value: Any) -> str:
    """A value as the log's JSON spells it (``false``, not Python's ``False``)."""
    return json.dumps(value, ensure_ascii=False)


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (an "array", not a Python "list")."""
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _agent_cell(name: str, cell: Any) -> tuple[AgentRecord | None, str | None]:
    """Validate one agent cell; returns (record, None) or (None, what was expected)."""
    if not AGENT_NAME_RE.match(name):
        return None, f"agent name {name!r} is not a valid agent name (letters, digits and _.:/+@-)"
    if not isinstance(cell, dict):
        return None, f'agent {name!r}: expected an object like {{"score": 0.5}}, got {_json_type(cell)}'
    score = cell.get("score")
    if score is not None and not (_is_number(score) and math.isfinite(score)):
        expected = 'expected "score" to be a finite number (usually in [0, 1]) or null'
        hint = " (for right/wrong, write 1.0/0.0)" if isinstance(score, bool) else ""
        return None, f"agent {name!r}: {expected}, got {_shown(score)}{hint}"
    for key in _NUMERIC_FIELDS:
        v = cell.get(key)
        if v is not None and not (_is_number(v) and v >= 0):
            return None, f"agent {name!r}: expected {key!r} to be a non-negative number or null, got {_shown(v)}"
    data = dict(cell)
    if data.get("pred") is not None and not isinstance(data["pred"], str):
        data["pred"] = json.dumps(data["pred"]) if isinstance(data["pred"], (list, dict)) else str(data["pred"])
    return AgentRecord.model_validate(data), None


def parse_record(obj: Any, default_qid: str) -> RunRecord:
    """Validate one decoded line; raises ValueError saying what was expected."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object per line, got {_json_type(obj)}")
    question = obj.get("question")
    if not isinstance(question, str):
        raise ValueError(
            'missing "question" (expected a string)'
            if question is None
            else f'"question" must be a string, got {_json_type(question)}'
        )
    agents = obj.get("agents")
    if not isinstance(agents, dict):
        raise ValueError(
            f'"agents" is not an object (expected {{agent name: {{"score": ...}}}}), got {_json_type(agents)}'
        )
    cells: dict[str, AgentRecord] = {}
    for name, cell in agents.items():
        record, problem = _agent_cell(str(name), cell)
        if problem:
            raise ValueError(problem)
        cells[str(name)] = record  # type: ignore[assignment]
    gold = obj.get("gold")
    if isinstance(gold, str):
        gold = [gold]
    elif isinstance(gold, list):
        gold = [g if isinstance(g, str) else json.dumps(g) for g in gold]
    elif gold is not None:
        raise ValueError(f'"gold" must be a list of strings or null, got {_json_type(gold)}')
    qid = obj.get("qid")
    data = {**obj, "qid": default_qid if qid in (None, "") else str(qid), "gold": gold, "agents": cells}
    for key in ("dataset", "split"):
        if data.get(key) is not None:
            data[key] = str(data[key])
    return RunRecord.model_validate(data)


def read_routing_log(path: str | Path) -> list[RunRecord]:
    """Read a unified routing log (``.jsonl`` or ``.jsonl.gz``); blank lines are skipped.

    A row without ``qid`` gets a stable id ``<dataset or file stem>-<line number>``.
    Raises ``LogFormatError`` naming the file and line of the first bad row.
    """
    path = Path(path)
    stem = path.name.split(".")[0]
    records: list[RunRecord] = []
    try:
        for lineno, line in text_lines(path):
            if not line.strip():
                continue
            obj = parse_json(line, f"{path}:{lineno}")
            dataset = obj.get("dataset") if isinstance(obj, dict) else None
            try:
                records.append(parse_record(obj, f"{dataset or stem}-{lineno}"))
            except (ValueError, ValidationError) as e:
                raise LogFormatError(f"{path}:{lineno}: {_one_line(e)}") from None
    except TextFileError as e:
        raise LogFormatError(f"{e}; expected one JSON object per line") from None
    if not records:
        raise LogFormatError(f"{path}: no rows; expected one JSON object per line")
    return records


def score_scale_note(records: Sequence[RunRecord], source: str | Path) -> str | None:
    """A warning when scores leave [0, 1], else None. Why: routers read scores on that scale (the GNN's
    target temperature, the cost weight against the score, the vote's reliabilities), so a log of 1-10
    ratings routes differently from the same log rescaled, and nothing else would say so."""
    scores = [s for r in records for s in r.scores().values()]
    if not scores or (min(scores) >= 0.0 and max(scores) <= 1.0):
        return None
    return (
        f"warning: {source}: scores range over [{min(scores):g}, {max(scores):g}], but routers read them on "
        "[0, 1] (1 = right): rescale them to [0, 1]"
    )


def _one_line(e: BaseException) -> str:
    """A validation error on one line (pydantic's span several), capped so a huge value cannot flood."""
    if isinstance(e, ValidationError):
        text = "; ".join(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors())
    else:
        text = str(e)
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def split_records(records: Sequence[RunRecord], split: str) -> list[RunRecord]:
    """The rows of one file-level split (the ``split`` field, e.g. "train" / "test")."""
    return [r for r in records if r.split == split]


def question_key(text: str) -> str:
    """What makes two rows 'the same question' (case and whitespace do not count)."""
    return " ".join(text.lower().split())


def drop_overlap(test: Sequence[RunRecord], train: Sequence[RunRecord]) -> tuple[list[RunRecord], int]:
    """Test rows whose question text does not also appear in train, and how many were dropped."""
    seen = {question_key(r.question) for r in train}
    kept = [r for r in test if question_key(r.question) not in seen]
    return kept, len(test) - len(kept)
