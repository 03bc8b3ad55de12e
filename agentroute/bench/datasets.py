"""QA benchmark loaders: JSONL, JSON lists and CSV files of questions with gold answers -> ``Query``.

Accepted shapes (the common public formats): a question under ``question``/``Question``/``query``; gold
under ``answer``/``answers``/``golden_answers``/``ground_truth``/``Answer`` (a string, a list, or a boolean);
GSM8K-style answers keep the text after ``####``; optional ``context`` as strings or ``{title, text}``
objects. A bad row raises ``DatasetFormatError`` naming the file and line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentroute.textfile import TextFileError, parse_json, read_text, text_lines
from agentroute.types import Query

QUESTION_KEYS = ("question", "Question", "query", "input")
GOLD_KEYS = ("golden_answers", "answers", "answer", "ground_truth", "Answer", "gold", "target")
ID_KEYS = ("id", "qid", "question_id", "idx", "_id")


class DatasetFormatError(ValueError):
    """A QA file row that cannot be read; the message names the file and line."""


def _gold(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, (int, float)):
        return [str(value)]
    if isinstance(value, str):
        return [value.split("####")[-1].strip().replace(",", "") if "####" in value else value.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    raise TypeError(f"expected the answer to be a string, a list or a boolean, got {type(value).__name__}")


def _context(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and "title" in value and "sentences" in value:  # HotpotQA distractor format
        return [f"{t}: {' '.join(sents)}" for t, sents in zip(value["title"], value["sentences"])]
    out = []
    for item in value:
        if isinstance(item, dict):
            out.append(f"{item.get('title', '')}: {item.get('text', '')}".strip(": "))
        else:
            out.append(str(item))
    return out


def row_to_query(row: dict[str, Any], default_id: str) -> Query:
    question = next((row[k] for k in QUESTION_KEYS if isinstance(row.get(k), str) and row[k].strip()), None)
    if question is None:
        raise KeyError(f"expected a non-empty question under one of {', '.join(QUESTION_KEYS)}")
    gold = next((_gold(row[k]) for k in GOLD_KEYS if k in row), None)
    qid = next((str(row[k]) for k in ID_KEYS if row.get(k) not in (None, "")), default_id)
    return Query(id=qid, text=question.strip(), gold=gold, context=_context(row.get("context")))


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    name = path.name.removesuffix(".gz")
    if name.endswith(".csv"):
        lines = (text for _, text in text_lines(path))
        reader = csv.DictReader(lines, strict=True)  # an unterminated quote is an error, not a question
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as e:
            raise DatasetFormatError(f"{path}:{max(reader.line_num, 1)}: not readable CSV ({e})") from None
    elif name.endswith(".json"):
        data = parse_json(read_text(path), str(path))
        if not isinstance(data, list):
            raise DatasetFormatError(f"{path}: expected a JSON list of question objects")
        yield from enumerate(data, start=1)
    else:
        for line, text in text_lines(path):
            if text.strip():
                yield line, parse_json(text, f"{path}:{line}")


def read_qa(path: str | Path, limit: int | None = None) -> list[Query]:
    """Questions with gold answers from a QA benchmark file (``.jsonl``, ``.json``, ``.csv``, optionally ``.gz``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"QA file not found: {path}")
    try:
        return _read_qa(path, limit)
    except TextFileError as e:
        raise DatasetFormatError(str(e)) from None


def _read_qa(path: Path, limit: int | None) -> list[Query]:
    queries: list[Query] = []
    seen: set[str] = set()
    for line, row in _rows(path):
        if not isinstance(row, dict):
            raise DatasetFormatError(f"{path}:{line}: expected an object, got {type(row).__name__}")
        try:
            q = row_to_query(row, default_id=f"{path.stem}-{line}")
        except (KeyError, TypeError) as e:
            raise DatasetFormatError(f"{path}:{line}: {e.args[0]}") from None
        if q.id in seen:
            q = q.model_copy(update={"id": f"{q.id}-{line}"})
        seen.add(q.id)
        queries.append(q)
        if limit is not None and len(queries) >= limit:
            break
    return queries
