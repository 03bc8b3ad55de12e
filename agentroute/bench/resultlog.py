"""Append-as-you-go results files (``results.jsonl``) that survive being killed and can be resumed.

Why: profiling agents or benchmarking routers can run for hours against flaky endpoints; a crash must
cost only the batch in flight. Rows are appended one JSON object per line and flushed (and fsynced) per
batch. A run killed mid-write can leave at most one torn line, always the last one and always without its
newline: on resume it is cut off, so earlier rows are never damaged and appending starts on a clean line.
Any other unreadable line is an error naming the file and line (the file is not ours to repair).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from agentroute.atomic import atomic_write_text

T = TypeVar("T")


class ResultsFileError(ValueError):
    """A results file (or its run description) that cannot be resumed; the message names the file."""


def read_rows(path: Path, parse: Callable[[bytes], T]) -> list[T]:
    """Every complete row of ``path`` (none if it does not exist). An unterminated last line, the mark
    of a run killed mid-write, is dropped and truncated away; any other bad line raises naming file:line."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    torn = lines.pop()  # b"" when the file ends with a newline, else the unterminated tail
    rows: list[T] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(parse(line))
        except (ValueError, TypeError, KeyError, RecursionError) as e:
            why = " ".join(str(e).split())[:200]
            raise ResultsFileError(
                f"{path}:{number}: not a row this command wrote ({why}); remove the line or choose another --out"
            ) from None
    if torn:
        with path.open("r+b") as f:
            f.truncate(len(raw) - len(torn))
    return rows


def append_rows(path: Path, rows: Iterable[str]) -> None:
    """Append lines (each one JSON object) in one write, then flush and fsync: one batch, durable."""
    data = "".join(row + "\n" for row in rows).encode("utf-8")
    if not data:
        return
    with path.open("ab") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _json_row(line: bytes) -> dict[str, Any]:
    row = json.loads(line)
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    return row


#: what a finished run leaves in its folder: its rows, its description, the report and its plots
RUN_FILES = (
    "results.jsonl",
    "run.json",
    "report.json",
    "report.md",
    "accuracy_vs_calls.png",
    "agent_choice.png",
    "curves.png",
    "pgr.png",
)


def set_aside_previous_run(folder: Path) -> Path | None:
    """Before a new run: a finished previous run (it has ``report.json``) moves to ``DIR/previous/``, an
    unfinished one to ``DIR/unfinished/``, each replacing what was there. Why: a new run killed half-way
    must neither lose the last finished report nor the rows of a run killed before it, nor leave either
    beside rows they did not come from. Other files in the folder are not touched. Returns where the run
    went (None: there was none)."""
    if not any((folder / name).is_file() for name in RUN_FILES):
        return None
    aside = folder / ("previous" if (folder / "report.json").is_file() else "unfinished")
    aside.mkdir(exist_ok=True)
    for name in RUN_FILES:
        (aside / name).unlink(missing_ok=True)
        if (folder / name).is_file():
            (folder / name).replace(aside / name)
    return aside


def unfinished_rows(folder: Path) -> int:
    """How many rows an unfinished run left in ``folder`` (it has rows but no ``report.json``)."""
    path = folder / "results.jsonl"
    if (folder / "report.json").is_file() or not path.is_file():
        return 0
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


def fingerprint(path: str | Path | None) -> str | None:
    """A short hash of a file's bytes, kept in ``run.json``: a resumed run must read the same inputs."""
    if path is None:
        return None
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


class ResultsLog:
    """``DIR/results.jsonl`` of a benchmark: one row per unit of work (e.g. per router and question).

    ``config`` describes the run (``DIR/run.json``, with the inputs' ``fingerprint``); ``resume`` keeps
    finished rows, refusing a folder written by a run with another config (mixing two runs' rows would
    silently corrupt the results). Without ``resume`` a previous run's files are moved to ``DIR/previous/``
    (``set_aside_previous_run``); an unfinished run is refused unless ``force`` (it was most likely meant to
    be resumed). Making one only checks the folder; ``start()`` changes it, so a command can check the rest
    of its input in between and a refused run leaves the folder as it was.
    """

    def __init__(
        self,
        folder: Path,
        key: Callable[[Mapping[str, Any]], Hashable],
        config: Mapping[str, Any],
        resume: bool,
        force: bool = False,
    ) -> None:
        self.folder = folder
        self.path = folder / "results.jsonl"
        self.key = key
        self.set_aside: Path | None = None  # where a previous run's files were moved to (by ``start``)
        self.started = False
        self.resume = resume
        meta_path = folder / "run.json"
        self.config = config = json.loads(json.dumps(dict(config)))  # what the file will hold (tuples: lists)
        if resume and meta_path.exists():
            try:
                found = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
                raise ResultsFileError(f"{meta_path}: unreadable run description ({e})") from None
            if isinstance(found, dict):  # a run.json written before inputs were fingerprinted: not a mismatch
                found.update({k: v for k, v in config.items() if k.endswith("_sha256") and k not in found})
            if not isinstance(found, dict):
                raise ResultsFileError(f"{meta_path}: not a run description")
            if found != config:
                changed = sorted(k for k in set(found) | set(config) if found.get(k) != config.get(k))
                inputs = [k.removesuffix("_sha256") for k in changed if k.endswith("_sha256")]
                if inputs and len(inputs) == len(changed):
                    names = ", ".join(f"--{k.replace('_', '-')} {config.get(k) or ''}".rstrip() for k in inputs)
                    raise ResultsFileError(
                        f"--resume: {names} changed since this run started in {folder}: resume with the file as "
                        "it was, or pass --force without --resume to start over"
                    )
                diff = ", ".join(f"{k}={found.get(k)!r} there, {config.get(k)!r} now" for k in changed)
                raise ResultsFileError(
                    f"--resume: {folder} holds a run with other settings ({diff}): resume with those, or pass "
                    "--force without --resume to start over"
                )
        if not resume:
            left = unfinished_rows(folder)
            if left and not force:
                raise ResultsFileError(
                    f"{folder} holds an unfinished run ({left} rows, no report): pass --resume to continue it, "
                    f"or --force to start over (its rows then move to {folder / 'unfinished'})"
                )
        self.done: dict[Hashable, dict[str, Any]] = {}
        for row in read_rows(self.path, _json_row) if resume else ():
            try:
                self.done.setdefault(key(row), row)
            except (KeyError, TypeError) as e:
                raise ResultsFileError(f"{self.path}: a row lacks the field {e} this command writes") from None

    def start(self) -> Path | None:
        """Make the folder this run's: set a previous run aside (unless resuming) and write ``run.json``.
        Returns where the previous run went (None: nowhere). Calling it again does nothing."""
        if not self.started:
            self.started = True
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self.resume:
                self.set_aside = set_aside_previous_run(self.folder)
            atomic_write_text(self.folder / "run.json", json.dumps(self.config, indent=2, sort_keys=True))
            return self.set_aside
        return None

    def append(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Write a batch of rows (skipping any already finished) and remember them as done."""
        self.start()
        fresh = [dict(r) for r in rows if self.key(r) not in self.done]
        append_rows(self.path, (json.dumps(r, ensure_ascii=False, sort_keys=True) for r in fresh))
        for r in fresh:
            self.done[self.key(r)] = r
