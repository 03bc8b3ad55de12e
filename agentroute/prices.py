"""Per-model token prices (USD per one million input / output tokens) and the prices file loader.

Cost is computed from the usage an endpoint reports, so it is right for any provider or local server.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agentroute.textfile import read_text
from agentroute.types import TokenUsage


class PriceFileError(ValueError):
    """A prices file cannot be read; the message names the file (and line)."""


class Price(BaseModel):
    """USD per one million input (prompt) and output (completion) tokens."""

    input: float = 0.0
    output: float = 0.0

    def cost(self, usage: TokenUsage) -> float:
        return (usage.prompt_tokens * self.input + usage.completion_tokens * self.output) / 1e6


def load_prices(path: str | Path) -> dict[str, Price]:
    """Per-model prices (USD per 1M tokens) from the project's prices file.

    ``{"model": {"input_per_M": 0.15, "output_per_M": 0.6}}`` (the format ``bench run --prices`` reads for
    agents, so one file can price both), also ``{"input": .., "output": ..}`` or ``[input, output]``;
    ``per_call`` entries are agent prices and are ignored here; a key ending in ``*`` is a prefix.
    """
    path = Path(path)
    data = read_price_file(path, 'model -> {"input_per_M": USD, "output_per_M": USD}')
    prices: dict[str, Price] = {}
    for model, value in data.items():
        try:
            prices[str(model)] = _price(value)
        except (ValueError, TypeError):
            raise PriceFileError(
                f'{path}: price of {model!r} must be {{"input_per_M": number, "output_per_M": number}} (USD)'
            ) from None
    return prices


def read_price_file(path: Path, shape: str) -> dict[str, Any]:
    """The JSON object of a prices file (both kinds: model token prices and agent call prices); errors
    name the file (and line) and the expected ``shape``."""
    try:
        data = json.loads(read_text(path))  # another encoding is an error naming the file and line
    except FileNotFoundError:
        raise PriceFileError(f"{path}: prices file does not exist") from None
    except json.JSONDecodeError as e:
        raise PriceFileError(f"{path}:{e.lineno}: invalid JSON in prices file ({e.msg})") from None
    if not isinstance(data, dict):
        raise PriceFileError(f"{path}: expected an object of {shape}")
    return data


def is_price(v: Any) -> bool:
    """A usable price: a finite, non-negative number of USD."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0


def as_prices(prices: Mapping[str, Price | Mapping[str, float]] | str | Path | None) -> dict[str, Price]:
    """Prices from a file path, or a mapping of model -> ``Price`` or ``{"input": .., "output": ..}``."""
    if isinstance(prices, (str, Path)):
        return load_prices(prices)
    return {m: _price(p) for m, p in (prices or {}).items()}


_ALIASES = {"input_per_M": "input", "output_per_M": "output", "input": "input", "output": "output"}


def _price(value: Any) -> Price:
    if isinstance(value, Price):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2:
        value = {"input": value[0], "output": value[1]}
    if not isinstance(value, Mapping) or not set(value) <= {*_ALIASES, "per_call"}:
        raise ValueError("not a price")
    fields = {_ALIASES[k]: v for k, v in value.items() if k in _ALIASES}
    if not all(is_price(v) for v in fields.values()):
        raise ValueError("not a price")
    return Price(**fields)


def price_for(prices: Mapping[str, Price] | None, model: str) -> Price | None:
    """The price of ``model``; an entry may also name a model prefix ending in ``*``."""
    if not prices:
        return None
    if model in prices:
        return prices[model]
    prefixed = [k for k in prices if k.endswith("*") and model.startswith(k[:-1])]
    return prices[max(prefixed, key=len)] if prefixed else None
