"""Reading user data files line by line, where every way a file can be broken is one clear error.

Why: a QA file or routing log may be truncated, gzipped wrongly, binary, in another encoding or hold a
line nested thousands deep; each must end as one line naming the file (and line), never a bare
``UnicodeDecodeError`` or ``RecursionError`` with no file in it.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class TextFileError(ValueError):
    """A data file that cannot be read as UTF-8 text lines; the message names the file (and line)."""


def _gzipped(path: Path) -> bool:
    return path.name.endswith(".gz")


def _raw_lines(path: Path) -> Iterator[bytes]:
    if not _gzipped(path):
        with path.open("rb") as fh:
            yield from fh
        return
    try:
        with gzip.open(path, "rb") as fh:
            yield from fh
    except (OSError, EOFError, zlib.error) as e:
        raise TextFileError(f"{path}: not a readable gzip file ({' '.join(str(e).split())[:120]})") from None


def text_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, text) for each line of a UTF-8 file (``.gz`` decompressed); a leading BOM is dropped."""
    path = Path(path)
    for number, raw in enumerate(_raw_lines(path), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise TextFileError(
                f"{path}:{number}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
                "save the file as UTF-8"
            ) from None
        yield number, text.removeprefix("\ufeff") if number == 1 else text


def read_text(path: str | Path) -> str:
    """The whole file as text (for formats that are not line-based, like a JSON list)."""
    return "".join(text for _, text in text_lines(path))


def parse_json(text: str, where: str) -> Any:
    """``json.loads`` whose failures (bad JSON, nesting too deep, a lone surrogate escape such as ``\\udcff``,
    which no file or store can write back) name ``where``, and the line and column in a document of
    several lines (a JSONL line's own trailing newline does not count)."""
    text = text.rstrip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        at = f"line {e.lineno}, column {e.colno}" if "\n" in text else f"column {e.colno}"
        raise TextFileError(f"{where}: invalid JSON ({e.msg} at {at})") from None
    except RecursionError:
        raise TextFileError(f"{where}: JSON nested too deeply") from None
    try:
        alone = "\\u" in text and _holds_lone_surrogate(value)  # only an escape makes one; no write takes it
    except RecursionError:
        raise TextFileError(f"{where}: JSON nested too deeply") from None
    if alone:
        raise TextFileError(f"{where}: a \\uD800-\\uDFFF escape without its pair (not valid Unicode text)")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads joins valid pairs: what is left is alone


def _holds_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(k) or _holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(v) for v in value)
    return False
