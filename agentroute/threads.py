"""torch's CPU thread count, as a setting the application chooses (the library never changes it).

Why it matters: the query graphs are small, so intra-op parallelism gains little, and when other
processes compete for the cores, OpenMP threads waiting on each other made training 50-100x slower in
our measurements. The count is process-wide in torch, so only the application should set it: the CLI
does so in the commands that train (quickstart, bench run, train, calibrate; not ``ask``, ``serve`` or
``profile``, which would import torch for every router to do so); library users call ``set_torch_threads`` at
start-up or wrap a block in ``torch_threads`` (which restores the previous count, so do not use it while
other threads run torch).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def set_torch_threads(n: int) -> None:
    """Use ``n`` intra-op CPU threads from now on (imports torch)."""
    import torch

    torch.set_num_threads(max(1, int(n)))


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Within the block use at most ``n`` intra-op CPU threads (``None``: unchanged), then restore."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)
