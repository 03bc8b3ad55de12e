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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

_CHOSEN: list[int] = []  # the count the application chose with ``set_torch_threads`` (none: torch's own)


def set_torch_threads(n: int) -> None:
    """Use ``n`` intra-op CPU threads from now on (imports torch), in the threads agentroute runs torch on
    too (``LentPool``)."""
    import torch

    torch.set_num_threads(max(1, int(n)))
    _CHOSEN[:] = [max(1, int(n))]


def _follow_torch_threads() -> None:
    """A worker thread's start: torch's OpenMP thread count is kept per thread, so a new thread would run
    torch on every core whatever the application chose; measured on 2 busy cores, a GNN routed on such a
    thread took 36-46 ms a question instead of 8."""
    if _CHOSEN:
        import torch

        torch.set_num_threads(_CHOSEN[0])


class LentPool(ThreadPoolExecutor):
    """Worker threads kept across event loops. A synchronous call runs on a new event loop, lent this pool
    as its default executor (where LangGraph runs the graph's blocking steps: building the query graph,
    routing), so a question does not start and join threads of its own (about 0.7 ms a question), and
    its threads follow ``set_torch_threads``. A loop closing does not shut it down; ``close()`` does."""

    def __init__(self) -> None:
        super().__init__(thread_name_prefix="agentroute-loop", initializer=_follow_torch_threads)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """A no-op: the loops it is lent to close without closing it."""

    def close(self) -> None:
        super().shutdown(wait=False, cancel_futures=True)


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
