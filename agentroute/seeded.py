"""Seeded torch work that leaves the process's random state as it found it.

Why a lock: torch draws initialisation and dropout from one global generator per process. ``fork_rng``
restores it afterwards, but two fits in two threads would interleave their draws (neither reproducible)
and the restore that runs last would leave the other fit's seed behind. Fits that seed the generator take
turns instead. (A host thread drawing from torch's generator while a fit runs still shares it.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch

_TURN = threading.RLock()


@contextmanager
def seeded(seed: int, cuda_devices: Sequence[int] = ()) -> Iterator[None]:
    """Within the block torch's generators are seeded with ``seed``; after it, they are as they were."""
    with _TURN, torch.random.fork_rng(devices=list(cuda_devices)):
        torch.manual_seed(seed)
        yield
