"""Run independent pieces of work (a benchmark's folds) in worker processes, passing what they report back
to the caller as it happens (``bench run --jobs N``).

Why processes: a fold trains its routers on one torch thread (Python and small graphs, where more threads
gain little), so on a machine with more cores, folds run side by side. Folds share nothing, so the
figures do not depend on how many run at once. Why ``spawn``: forking a process that may already have
run torch's thread pool can hang the child, so each worker starts a fresh interpreter, imports what it
needs and uses one torch thread. What a worker needs travels with the work (it must pickle), so
extensions must be importable: a router, embedder or aggregator registered only in an interactive
session is unknown in a worker.

Workers never outlive the run: Ctrl-C (which the workers ignore) or an error stops and reaps them all,
and a worker whose parent was killed outright exits within a second.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

P = TypeVar("P")
R = TypeVar("R")

#: ``work(plan, item, emit)``: ``emit`` sends any picklable event to the caller's ``on_event``.
Work = Callable[[P, int, Callable[[Any], None]], R]


class WorkerDied(RuntimeError):
    """A worker process ended without reporting (killed, out of memory, crashed)."""


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)  # the parent is gone: nobody will read this worker's results


def _child(work: Work[P, R], plan: P, item: int, events: Any, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    from agentroute.threads import set_torch_threads

    set_torch_threads(1)
    try:
        result = work(plan, item, lambda event: events.put(("event", item, event)))
    except BaseException as e:  # noqa: BLE001 - every failure goes back to the caller
        if hasattr(e, "add_note"):  # Python >= 3.11: the worker's traceback travels with the error
            e.add_note(f"raised in a worker process:\n{traceback.format_exc()}")
        events.put(("error", item, _picklable(e)))
    else:
        events.put(("done", item, result))


def _picklable(error: BaseException) -> BaseException:
    try:
        pickle.dumps(error)
        return error
    except Exception:  # noqa: BLE001 - an error that cannot travel is sent as its text
        return RuntimeError(f"{type(error).__name__}: {error}")


def run_in_processes(
    work: Work[P, R],
    plan: P,
    items: Sequence[int],
    jobs: int,
    on_event: Callable[[Any], None],
    describe: Callable[[int], str] = lambda item: f"item {item}",
) -> Iterator[R]:
    """``work(plan, item, emit)`` for every item, at most ``jobs`` at a time, each in its own worker
    process; results are yielded as they finish (in any order) and every emitted event is passed to
    ``on_event`` in this process as it arrives. ``work`` must be a module-level function and ``plan``
    picklable. A failing item re-raises its error here (``WorkerDied`` if its process vanished); then, as
    when the caller stops early, the other workers are stopped. ``describe`` names an item in errors."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    waiting = list(items)
    running: dict[int, BaseProcess] = {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                item = waiting.pop(0)
                running[item] = context.Process(target=_child, args=(work, plan, item, events, os.getpid()))
                running[item].start()
            try:
                kind, item, payload = events.get(timeout=0.5)
            except queue.Empty:
                _check_alive(running, describe)
                continue
            if kind == "event":
                on_event(payload)
            elif kind == "error":
                raise payload
            else:
                running.pop(item).join()
                yield payload
    finally:
        for process in running.values():
            process.terminate()
        for process in running.values():
            process.join()
        events.close()
        events.cancel_join_thread()  # nothing left to send that anyone will read


def _check_alive(running: dict[int, BaseProcess], describe: Callable[[int], str]) -> None:
    """Raise for a worker that ended abnormally. One that exited cleanly has its report in the queue."""
    for item, process in running.items():
        if not process.is_alive() and process.exitcode != 0:
            raise WorkerDied(
                f"the worker process for {describe(item)} ended without a result (exit code {process.exitcode}; "
                "a negative code is the signal that stopped it, e.g. -9 when the system ran out of memory)"
            )
