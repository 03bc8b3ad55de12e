"""Entity extraction: a Protocol, the default heuristic extractor (no downloads) and a string resolver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Entity:
    """An entity mention. ``id`` is the normalised key shared with the graph store (lowercased, trimmed)."""

    id: str
    text: str
    kind: str  # "span" (capitalised span), "number", "date", "quoted", "word"


@runtime_checkable
class EntityExtractor(Protocol):
    def extract(self, text: str) -> list[Entity]:
        """Entities in order of first appearance, de-duplicated by id."""
        ...
