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

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_CHOSEN: list[int] = []  # the count the application chose with ``set_torch_threads`` (none: torch's own)


def set_torch_threads(n: int) -> None:
    """Use ``n`` intra-op CPU threads from now on (imports torch), in the threads agentroute runs torch on
    too (``LentPool``)."""
    import torch

    torch.set_num_threads(max(1, int(n)))
    _CHOSEN[:] = [max(1, int(n))]


_WORKER = threading.local()  # in a LentPool worker: the torch thread count it last applied


def _follow_torch_threads() -> None:
    """Before each task on a worker thread: torch keeps OpenMP's thread count per thread, so a new thread
    would run torch on every core whatever the application chose (measured on 2 busy cores, a GNN routed
    on such a thread took 36-46 ms a question instead of 8), and a count chosen later must reach threads
    already running."""
    chosen = _CHOSEN[0] if _CHOSEN else None
    if chosen is not None and getattr(_WORKER, "applied", None) != chosen:
        import torch

        torch.set_num_threads(chosen)
        _WORKER.applied = chosen


def in_lent_thread() -> bool:
    """Whether the current thread is a ``LentPool`` worker (a synchronous call made from one must not wait
    on the pool it holds a worker of)."""
    return getattr(_WORKER, "lent", False)


class LentPool(ThreadPoolExecutor):
    """Worker threads kept across event loops. A synchronous call runs on a new event loop, lent this pool
    as its default executor (where LangGraph runs the graph's blocking steps: building the query graph,
    routing), so a question does not start and join threads of its own (about 0.7 ms a question), and
    its threads follow ``set_torch_threads``. Up to 64 threads, started as needed (idle ones are reused):
    concurrent callers' blocking steps (a store's I/O) do not queue behind each other. A loop closing does
    not shut it down; ``close()`` does. The work runs on an ``AgentExecutor``'s threads: daemons (a step
    blocked on a stalled store cannot hold up the process's exit), started afresh in a forked child. (A
    ``ThreadPoolExecutor`` only because asyncio accepts nothing else as a default executor.)"""

    def __init__(self) -> None:
        from agentroute.agents.executor import AgentExecutor  # the CLI imports this module: keep it light

        super().__init__(max_workers=1)  # starts no thread: every call goes to the daemon workers
        self._daemons = AgentExecutor(max_workers=64, thread_name_prefix="agentroute-loop")

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self._daemons.submit(_lent_call, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """A no-op: the loops it is lent to close without closing it."""

    def close(self) -> None:
        self._daemons.shutdown(wait=False, cancel_futures=True)


def _lent_call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    _WORKER.lent = True
    _follow_torch_threads()
    return fn(*args, **kwargs)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Within the block use at most ``n`` intra-op CPU threads (``None``: unchanged), then restore."""
    if n is None:
        yield
        return
    import torch

    before, chosen = torch.get_num_threads(), list(_CHOSEN)
    torch.set_num_threads(max(1, int(n)))
    _CHOSEN[:] = [max(1, int(n))]  # agentroute's worker threads follow it too, while the block lasts
    try:
        yield
    finally:
        torch.set_num_threads(before)
        _CHOSEN[:] = chosen or [before]  # the workers go back to the count in effect before, too
