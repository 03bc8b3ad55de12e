"""What a graph store keeps as a property value, the same for every backend.

Why one place: the in-memory store accepted values a Bolt server refuses (a dict, a NaN, a non-identifier
name) and values its own file cannot hold (a numpy array, a lone surrogate), so code that worked in memory
failed on Neo4j, or failed only at ``close()`` and lost the whole file. Every store cleans each row here,
before it writes any of a batch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT64 = 2**63


def property_value(key: str, value: Any) -> Any:
    """A value every store keeps: None, a finite number, a bool, UTF-8 text or a homogeneous list of them
    (numpy values are unwrapped, tuples become lists, ints in a list of floats become floats)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise ValueError(f"property {key!r}: {value} does not fit a 64-bit integer")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"property {key!r}: must be a finite number, got {value!r}")
        return value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"property {key!r}: text holds a lone surrogate (not valid UTF-8)") from None
        return value
    if hasattr(value, "tolist"):  # numpy scalar or array
        return property_value(key, value.tolist())
    if isinstance(value, (list, tuple)):
        items = [property_value(key, v) for v in value]
        kinds = {bool if isinstance(v, bool) else float if isinstance(v, (int, float)) else type(v) for v in items}
        if len(kinds) > 1 or kinds - {bool, float, str}:
            raise ValueError(f"property {key!r}: lists must hold only str, only numbers or only bools")
        if float in kinds and any(isinstance(v, float) for v in items):
            items = [float(v) for v in items]
        return items
    raise ValueError(
        f"property {key!r}: a {type(value).__name__} cannot be stored (use str, int, float, bool or a list of them)"
    )


def clean_props(row: Mapping[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row's properties as stores keep them, minus the key fields ``skip``; None values stay (an upsert
    removes those properties). Names must be identifiers (FalkorDB splices map keys unquoted)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in skip:
            continue
        if not isinstance(key, str) or not _IDENT.match(key):
            raise ValueError(f"property names must be identifiers (letters, digits, _), got {key!r}")
        out[key] = property_value(key, value)
    return out


def row_id(row: Mapping[str, Any], field: str) -> str:
    """A row's key field as text; a missing or empty one is an error naming the row."""
    value = row.get(field)
    if value is None or value == "":
        raise ValueError(f"row has no {field!r}: {dict(row)!r}")
    text = str(value)
    property_value(field, text)
    return text


def check_performed(src: Any, dst: Any, props: Mapping[str, Any]) -> None:
    """A recorded outcome's numbers are finite numbers (or absent): a router trains on them."""
    for prop in ("score", "cost", "latency_s", "steps"):
        value = props.get(prop)
        bad = isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
        if value is not None and bad:
            raise ValueError(f"PERFORMED {src!r} -> {dst!r}: {prop!r} must be a finite number, got {value!r}")
