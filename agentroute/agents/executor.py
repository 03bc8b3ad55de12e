"""Where synchronous agents run: a thread pool that cannot hold up the interpreter's exit.

A blocking agent that times out keeps running in its thread (Python cannot stop a thread). With
``concurrent.futures.ThreadPoolExecutor`` such a thread is joined at interpreter exit, so one hung agent
would hang its host process; ``AgentExecutor`` runs calls on daemon threads instead, and ``shutdown``
never waits for a call that is still running unless asked to. A call whose caller gave up on it (timed
out) no longer counts against ``max_workers``: hung calls must not leave healthy agents queueing behind
them until they too time out without having run.

Which executor a sync agent uses is a context setting (``using_executor``), so ``AgentRoute`` can give its
own agents its own pool without the agents knowing about it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import os
import queue
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("agentroute.agents")  # as agents/base.py: one logger for agent runs
_current: contextvars.ContextVar[Executor | None] = contextvars.ContextVar("agentroute_executor", default=None)
_AFRESH: dict[int, threading.Lock] = {}  # per process (a lock copied by a fork may be held for ever)


def this_process_lock() -> threading.Lock:
    """A lock of this process's own: ``setdefault`` is atomic, so all its threads get the same one, and a
    forked child gets a new one (a lock it copied from its parent may have been held by a thread it lacks)."""
    return _AFRESH.get(os.getpid()) or _AFRESH.setdefault(os.getpid(), threading.Lock())


class AgentExecutor(Executor):
    """A pool of at most ``max_workers`` daemon threads, started on demand.

    ``shutdown(wait=True)`` waits for queued and running calls; ``shutdown(wait=False)`` (what
    ``AgentRoute.close`` does) returns at once, drops queued calls and leaves running ones to finish on
    their own threads, which never keep the process alive. A process forked from this one has none of
    its threads: there it starts afresh (counting on idle workers it does not have, calls would only wait).
    """

    def __init__(self, max_workers: int = 64, thread_name_prefix: str = "agentroute-agent") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self._prefix = thread_name_prefix
        self._closed = False
        self._start_afresh()

    def _start_afresh(self) -> None:
        """No threads, no calls: a new pool, or this one in a process forked from the one that made it."""
        self._work: Work = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._started = 0
        self._abandoned: set[Future[Any]] = set()  # running calls nobody waits for (they timed out)
        self._idle = 0  # workers waiting for a call
        self._waiting = 0  # queued calls no worker is assigned to yet
        self._lock = threading.Lock()
        # workers hold only this weak reference, so a pool nobody can reach any more stops its threads
        self._ref = weakref.ref(self, functools.partial(_wake, self._work))
        self._pid = os.getpid()  # last: another thread checking it finds the pool ready

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._check_process()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a closed AgentExecutor")
            self._work.put((future, functools.partial(fn, *args, **kwargs)))
            if self._idle:
                self._idle -= 1  # a waiting worker takes it
            elif not self._start_worker():
                self._waiting += 1  # the next worker to finish takes it
        return future

    def _check_process(self) -> None:
        """In a process forked from the one that made this pool: start afresh (its workers, and maybe the
        holder of its lock, are not here)."""
        if self._pid != os.getpid():
            with this_process_lock():
                if self._pid != os.getpid():
                    self._start_afresh()

    def _start_worker(self) -> bool:
        """Start a thread if fewer than ``max_workers`` serve callers (hung, abandoned calls not counted).
        Called with the lock held."""
        if len(self._threads) - len(self._abandoned) >= self.max_workers:
            return False
        name = f"{self._prefix}-{self._started}"
        self._started += 1
        thread = threading.Thread(target=_work, args=(self._ref, self._work), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()
        return True

    def _take_waiting(self) -> None:
        """A place freed up: start a thread for a queued call no worker is assigned to. With the lock held."""
        if self._waiting and not self._closed and self._start_worker():
            self._waiting -= 1

    def abandon(self, future: Future[Any]) -> None:
        """The caller stopped waiting for this call: a queued one is dropped; a running one keeps its thread
        until it returns, and the pool starts another thread in its place when calls are queued."""
        if future.cancel():
            return
        self._check_process()
        with self._lock:
            if future.done() or future in self._abandoned:
                return
            self._abandoned.add(future)
            hung = len(self._abandoned)
            self._take_waiting()
        if hung % self.max_workers == 0:
            log.warning("%d agent calls still running after their callers timed out (hung agents?)", hung)

    @property
    def hung(self) -> int:
        """Calls still running after their callers gave up on them."""
        return len(self._abandoned)

    def _finished(self, future: Future[Any]) -> bool:
        """A worker finished a call: take the next (True), or stop, if the call had been abandoned and
        another thread may have taken this one's place (False)."""
        with self._lock:
            if future in self._abandoned:
                self._abandoned.discard(future)
                self._threads.remove(threading.current_thread())
                self._take_waiting()
                return False
            if self._waiting:
                self._waiting -= 1  # this worker takes a queued call next
            elif not self._closed:
                self._idle += 1
            return True

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._check_process()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = list(self._threads)
        if cancel_futures or not wait:
            self._drain()
        self._work.put(None)  # each worker passes it on before it stops
        if wait:
            for t in threads:
                t.join()

    def _drain(self) -> None:
        while True:
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item[0].cancel()

    @property
    def closed(self) -> bool:
        return self._closed


Work = queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None]


def _work(ref: weakref.ref[AgentExecutor], work: Work) -> None:
    """A worker thread: run calls until told to stop, the pool is shut down or the pool is gone."""
    while True:
        item = work.get()
        if item is None:
            work.put(None)  # pass the stop on to the next idle worker
            return
        future, call = item
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(call())
            except BaseException as e:  # noqa: BLE001 - delivered to whoever awaits the future
                future.set_exception(e)
        del item, call
        executor = ref()  # the stop token, or a call abandoned and replaced, ends a worker
        keep_going = executor is None or executor._finished(future)
        del executor, future
        if not keep_going:
            return


def _wake(work: Work, _ref: object) -> None:
    """The pool was garbage-collected: stop its idle workers."""
    work.put(None)


@contextmanager
def using_executor(executor: Executor | None) -> Iterator[None]:
    """Within this block (and tasks started in it), sync agents run on ``executor``; ``None`` keeps the
    executor already in effect."""
    if executor is None:
        yield
        return
    token = _current.set(executor)
    try:
        yield
    finally:
        _current.reset(token)


async def run_sync(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking callable on the executor in effect, or (none set: an agent invoked directly) on a
    daemon thread of its own, so even then a hung call cannot hold up the process. It runs in a copy of the
    caller's context, as ``asyncio.to_thread`` does: LangGraph's ``get_config`` / ``get_stream_writer``,
    LangChain callbacks (a chat model's tokens on the ``messages`` stream) and the application's own
    context variables reach a sync agent as they reach an async one."""
    executor = _current.get()
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    context.run(_current.set, None)  # a sync agent calling agents itself gives them threads of their own
    fn = functools.partial(context.run, fn)
    if isinstance(executor, AgentExecutor):
        pending = executor.submit(fn, *args)
        try:
            return await asyncio.wrap_future(pending)
        except asyncio.CancelledError:  # timed out or cancelled: free its place in the pool
            executor.abandon(pending)
            raise
    if executor is not None:
        return await loop.run_in_executor(executor, fn, *args)
    future: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            future.set_result(value) if ok else future.set_exception(value)

    def call() -> None:
        try:
            result: tuple[bool, Any] = (True, fn(*args))
        except BaseException as e:  # noqa: BLE001 - delivered to the awaiting coroutine
            result = (False, e)
        # RuntimeError: the loop closed while the call ran (it had timed out), so nobody is waiting
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, *result)

    threading.Thread(target=call, name="agentroute-agent", daemon=True).start()
    return await future
