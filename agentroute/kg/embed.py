"""Text embedders: a Protocol, the default hashing embedder (no downloads) and a string resolver."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension, deterministically."""

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised (all-zero rows stay zero)."""
        ...

    def config(self) -> dict[str, Any]:
        """Settings that rebuild an identical embedder via ``make_embedder(**config)`` (saved in checkpoints)."""
        ...
