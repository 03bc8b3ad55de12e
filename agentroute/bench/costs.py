"""What an agent call cost: the log's ``cost_usd``, else tokens × prices, else a per-call price.

Prices come from the log's own ``input_price_per_M`` / ``output_price_per_M`` cells or from a ``--prices``
JSON file: ``{"agent": {"per_call": 0.002}}`` or ``{"agent": {"input_per_M": 0.15, "output_per_M": 0.6}}``
(USD). A call whose cost cannot be derived stays unknown (None), so a partial sum never understates a cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentroute.prices import is_price, read_price_file
from agentroute.types import AgentRecord, RunRecord

_PRICE_KEYS = ("per_call", "input_per_M", "output_per_M")


def read_prices(path: str | Path) -> dict[str, dict[str, float]]:
    """Read and check a prices file (agent -> {per_call | input_per_M, output_per_M}); errors name the file."""
    path = Path(path)
    data = read_price_file(path, 'agent -> prices, e.g. {"gpt-4": {"per_call": 0.01}}')
    out: dict[str, dict[str, float]] = {}
    for agent, prices in data.items():
        if not isinstance(prices, dict) or not prices:
            raise ValueError(f"{path}: agent {agent!r}: expected an object with some of {', '.join(_PRICE_KEYS)}")
        unknown = sorted(set(prices) - set(_PRICE_KEYS))
        if unknown:
            raise ValueError(
                f"{path}: agent {agent!r}: unknown price key(s) {', '.join(unknown)}; expected {', '.join(_PRICE_KEYS)}"
            )
        for key, v in prices.items():
            if not is_price(v):
                raise ValueError(f"{path}: agent {agent!r}: {key} must be a non-negative number, got {v!r}")
        out[str(agent)] = {k: float(v) for k, v in prices.items()}
    return out


def _number(cell: AgentRecord, key: str) -> float | None:
    v: Any = getattr(cell, key, None)
    if v is None and cell.model_extra:
        v = cell.model_extra.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def call_cost(agent: str, cell: AgentRecord, prices: Mapping[str, Mapping[str, float]] | None = None) -> float | None:
    """USD cost of one recorded call, or None when neither the log nor ``prices`` can give it."""
    if cell.cost_usd is not None:
        return float(cell.cost_usd)
    given = (prices or {}).get(agent, {})
    tin, tout = _number(cell, "input_tokens"), _number(cell, "output_tokens")
    pin = given.get("input_per_M", _number(cell, "input_price_per_M"))
    pout = given.get("output_per_M", _number(cell, "output_price_per_M"))
    if tin is not None and tout is not None and pin is not None and pout is not None:
        return (tin * pin + tout * pout) / 1e6
    if "per_call" in given:
        return given["per_call"]
    return None


def with_costs(
    records: Sequence[RunRecord], prices: Mapping[str, Mapping[str, float]] | None = None
) -> list[RunRecord]:
    """The records with ``cost_usd`` filled in wherever it can be derived (originals are not modified)."""
    out = []
    for r in records:
        cells = {}
        changed = False
        for a, cell in r.agents.items():
            cost = call_cost(a, cell, prices)
            if cost is not None and cell.cost_usd is None:
                cell = cell.model_copy(update={"cost_usd": cost})
                changed = True
            cells[a] = cell
        out.append(r.model_copy(update={"agents": cells}) if changed else r)
    return out


def price_gaps(
    records: Sequence[RunRecord], prices: Mapping[str, Mapping[str, float]] | None = None
) -> tuple[list[str], list[str]]:
    """(agents with a scored call whose cost cannot be derived, names in ``prices`` that are no agent of
    the log): what to say when a cost is asked for and a prices file does not give it."""
    agents = {a for r in records for a in r.agents}
    unpriced = {
        a for r in records for a, c in r.agents.items() if c.score is not None and call_cost(a, c, prices) is None
    }
    return sorted(unpriced), sorted(set(prices or {}) - agents)


def price_gap_note(records: Sequence[RunRecord], prices: Mapping[str, Mapping[str, float]] | None = None) -> str:
    """One sentence naming the unpriced agents and the prices' names no agent has ("" when all are priced)."""
    unpriced, unused = price_gaps(records, prices)
    if not unpriced:
        return ""
    if not prices:
        return f"no cost_usd, nor tokens with prices, for calls of {', '.join(unpriced)}"
    note = f"--prices has no price for {', '.join(unpriced)}"
    if unused:
        note += f" (it names {', '.join(unused)}, which is no agent of the log: a typo?)"
    return note
