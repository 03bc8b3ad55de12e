"""Run independent pieces of work (a benchmark's folds) in worker processes, with their progress messages
passed back live (``bench run --jobs N``).

Why processes: a fold trains its routers on one torch thread (Python and small graphs, where more threads
gain little), so on a machine with more cores, folds run side by side. Folds share nothing, so the
figures do not depend on how many run at once. Why ``spawn``: forking a process that may already have
run torch's thread pool can hang the child, so each worker starts a fresh interpreter, imports what it
needs and uses one torch thread. What a worker needs travels with the work (it must pickle), so
extensions must be importable: a router, embedder or aggregator registered only in an interactive
session is unknown in a worker.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

P = TypeVar("P")
R = TypeVar("R")

_messages: Any = None  # a worker's queue back to the parent (set once per worker process)


def _start_worker(messages: Any) -> None:
    global _messages
    _messages = messages
    from agentroute.threads import set_torch_threads

    set_torch_threads(1)


def _say(message: str) -> None:
    _messages.put(message)


def _call(work: Callable[[P, int, Callable[[str], None]], R], plan: P, item: int) -> R:
    return work(plan, item, _say)


def _drain(messages: Any, say: Callable[[str], None]) -> None:
    while True:
        try:
            say(messages.get_nowait())
        except queue.Empty:
            return


def run_in_processes(
    work: Callable[[P, int, Callable[[str], None]], R],
    plan: P,
    items: Sequence[int],
    jobs: int,
    say: Callable[[str], None],
) -> Iterator[R]:
    """``work(plan, item, say)`` for every item, at most ``jobs`` at a time, each in a worker process;
    results are yielded as they finish (in any order) and messages are passed to ``say`` as they come.
    ``work`` must be a module-level function and ``plan`` picklable. A failing item re-raises here, and
    items not started yet are cancelled."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    try:
        workers = min(jobs, len(items))
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(messages,)) as pool:
            pending: set[Future[R]] = {pool.submit(_call, work, plan, item) for item in items}
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                    _drain(messages, say)
                    for future in finished:
                        yield future.result()
            finally:
                for future in pending:
                    future.cancel()
        _drain(messages, say)
    finally:
        messages.close()
        messages.join_thread()
