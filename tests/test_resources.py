"""AgentRoute as a guest: it owns and closes its executor, and a hung sync agent never holds up exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from agentroute import AgentRoute, agent
from agentroute.agents.executor import AgentExecutor
from agentroute.kg.stores.networkx_store import NetworkXStore


@agent(name="echo")
def echo(q):
    return q.text


def test_many_agentroutes_with_hung_sync_agents_let_the_process_exit():
    # Every AgentRoute gets a sync agent that never returns; each question times out, the instance is
    # closed (or left to the garbage collector) and the interpreter must still exit on its own.
    script = textwrap.dedent(
        """
        import threading
        from agentroute import AgentRoute, agent

        forever = threading.Event()

        @agent(name="stuck")
        def stuck(q):
            forever.wait()

        @agent(name="fine")
        def fine(q):
            return "42"

        for i in range(20):
            ar = AgentRoute([stuck, fine], "all", timeout_s=0.05)
            answer = ar.ask(f"question {i}?")
            assert answer.text == "42", answer
            assert [r.error for r in answer.results] == [None, "timeout after 0.05s"], answer.results
            if i % 2:
                ar.close()
        with AgentRoute([stuck], "all", timeout_s=0.05) as ar:
            ar.ask("one more?")
        direct = stuck  # invoked with no AgentRoute at all: its own daemon thread
        import asyncio
        print(asyncio.run(direct.invoke(ar_query := __import__("agentroute").Query(id="x", text="x"), 0.05)).error)
        print("done")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["timeout after 0.05s", "done"]


def test_close_shuts_down_the_owned_executor_and_store_and_refuses_more_questions(tmp_path):
    ar = AgentRoute([echo], "all", store=f"file:{tmp_path / 'kg.json'}")
    assert ar.ask("hello").text == "hello"
    ar.close()
    assert ar.executor.closed
    ar.close()  # idempotent
    with pytest.raises(RuntimeError, match="this AgentRoute is closed"):
        ar.ask("again")


async def test_async_with_closes_and_leaves_an_injected_executor_and_store_open():
    closed: list[str] = []

    class Store(NetworkXStore):
        def close(self) -> None:
            closed.append("store")

    pool = ThreadPoolExecutor(max_workers=2)
    store = Store()
    async with AgentRoute([echo], "all", executor=pool, store=store) as ar:
        assert (await ar.aask("hi")).text == "hi"
    with pytest.raises(RuntimeError, match="closed"):
        await ar.aask("hi")
    assert pool.submit(lambda: 7).result() == 7  # still the caller's to close
    pool.shutdown()
    assert closed == []  # a store object passed in is the caller's to close too


async def test_sync_agents_run_on_the_injected_executor():
    seen: list[str] = []

    @agent(name="where")
    def where(q):
        seen.append(threading.current_thread().name)
        return "ok"

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="host-pool")
    try:
        async with AgentRoute([where], "all", executor=pool) as ar:
            await ar.aask("which thread?")
            await ar.aprofile([ar_query("p1")], record=False)
    finally:
        pool.shutdown()
    assert [name.split("_")[0] for name in seen] == ["host-pool", "host-pool"]


def ar_query(qid: str):
    from agentroute import Query

    return Query(id=qid, text=qid, gold=["ok"])


def test_agent_executor_runs_calls_and_reports_errors():
    ex = AgentExecutor(max_workers=2)
    assert [f.result() for f in [ex.submit(pow, 2, 5), ex.submit(lambda: "x")]] == [32, "x"]
    failing = ex.submit(int, "not a number")
    with pytest.raises(ValueError, match="invalid literal"):
        failing.result()
    ex.shutdown(wait=True)
    assert all(not t.is_alive() for t in ex._threads)
    with pytest.raises(RuntimeError, match="closed AgentExecutor"):
        ex.submit(pow, 2, 2)


def test_agent_executor_shutdown_without_wait_cancels_queued_calls():
    gate = threading.Event()
    ex = AgentExecutor(max_workers=1)
    running = ex.submit(gate.wait)
    queued = ex.submit(lambda: "never")
    ex.shutdown(wait=False)
    assert queued.cancelled()
    gate.set()
    assert running.result() is True


def test_a_failed_constructor_closes_the_store_it_opened(tmp_path, monkeypatch):
    closed: list[str] = []
    monkeypatch.setattr(NetworkXStore, "close", lambda self: closed.append("store"))
    with pytest.raises(ValueError, match="unknown embedder"):
        AgentRoute([echo], "all", store="memory", embedder="no-such-embedder")
    assert closed == ["store"]


def test_an_instance_dropped_without_close_stops_its_worker_threads():
    import gc

    def workers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith(("agentroute-agent", "agentroute-loop"))}

    before = workers()
    for i in range(3):
        ar = AgentRoute([echo], "all")
        assert ar.ask(f"hello {i}").text == f"hello {i}"
        del ar
    gc.collect()
    for t in workers() - before:
        t.join(timeout=5)
    assert workers() - before == set()


def test_a_graph_keeps_working_after_the_instance_that_built_it_is_dropped():
    import gc

    graph = AgentRoute([echo], "all").as_graph().compile()
    gc.collect()
    assert graph.invoke({"question": "still there?"})["answer"] == "still there?"


def test_queued_calls_run_before_a_waiting_shutdown_and_after_the_pool_is_dropped():
    import gc
    import time

    ex = AgentExecutor(max_workers=1)
    futures = [ex.submit(time.sleep, 0.05) for _ in range(3)]
    ex.shutdown(wait=True)
    assert all(f.done() and not f.cancelled() for f in futures)
    ex = AgentExecutor(max_workers=1)
    futures = [ex.submit(lambda i=i: i) for i in range(3)]
    del ex
    gc.collect()
    assert [f.result(timeout=5) for f in futures] == [0, 1, 2]


def test_a_synchronous_call_leaves_the_hosts_current_event_loop_set():
    """A host that set a loop and uses ``get_event_loop()`` keeps it (``asyncio.run``, and LangGraph
    inside it, used to leave none set, or the closed loop of the call)."""
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with AgentRoute([echo], "all") as ar:
            assert ar.ask("hello?").text == "hello?"
        assert asyncio.get_event_loop_policy().get_event_loop() is loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_async_llm_clients_are_closed_with_their_event_loop():
    """One ``asyncio.run`` per question (as a script or a sync caller does): every async client made for a
    loop is closed when that loop ends, so no connection is left open for the garbage collector."""
    script = textwrap.dedent(
        """
        import asyncio, gc, os
        from agentroute.testing.chat_server import ChatServer
        from agentroute import AgentRoute, LLMAgent
        server = ChatServer(lambda request: "Answer: Paris").start()
        os.environ["AGENTROUTE_BASE_URL"], os.environ["AGENTROUTE_LLM_MODEL"] = server.url, "m"
        ar = AgentRoute([LLMAgent("llm", model="m")], "all")
        for _ in range(3):
            print(asyncio.run(ar.aask("Capital of France?")).text)
        ar.ask("Capital of France?")
        ar.close()
        gc.collect()
        server.stop()
        """
    )
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Paris"] * 3
    assert "ResourceWarning" not in done.stderr and "unclosed" not in done.stderr, done.stderr


def test_two_fits_in_two_threads_are_reproducible_and_leave_the_hosts_torch_seed():
    import torch

    from agentroute import build_suite, make_router

    suite = build_suite(seed=0, n_train=120, n_test=5)
    with AgentRoute(suite.agents, "all") as profiler:
        runs = profiler.profile(suite.train, concurrency=8)

    def probs(seed: int, out: dict[int, list[dict[str, float]]]) -> None:
        router = make_router("gnn", seed=seed, epochs=3, ensemble=1)
        with AgentRoute(suite.agents, router, cold_start=False) as ar:
            ar.fit(runs)
            out[seed] = [ar.ask(q.text).decision.probs for q in suite.test]

    torch.manual_seed(123)
    serial: dict[int, list[dict[str, float]]] = {}
    probs(0, serial)
    probs(1, serial)
    together: dict[int, list[dict[str, float]]] = {}
    threads = [threading.Thread(target=probs, args=(seed, together)) for seed in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert together == serial and serial[0] != serial[1]
    assert torch.initial_seed() == 123


def test_a_call_queued_behind_an_abandoned_one_gets_a_thread():
    """One worker, busy with a call its caller gave up on: a call already queued behind it runs on a new
    thread at once, and the hung thread leaves the pool when its call returns."""
    release = threading.Event()
    pool = AgentExecutor(max_workers=1)
    try:
        hung = pool.submit(release.wait, 30)
        queued = pool.submit(lambda: "ran")
        assert not queued.done()
        pool.abandon(hung)
        assert queued.result(timeout=5) == "ran" and pool.hung == 1
        release.set()
        assert hung.result(timeout=5) is True
        again = [pool.submit(lambda i=i: i) for i in range(3)]  # the pool still works, one thread
        assert [f.result(timeout=5) for f in again] == [0, 1, 2] and pool.hung == 0
    finally:
        release.set()
        pool.shutdown(wait=False)


def test_synchronous_calls_reuse_worker_threads_that_follow_the_torch_thread_count(monkeypatch) -> None:
    """A question's blocking steps (routing here) run on threads kept across calls, each set to the torch
    thread count the application chose (torch keeps OpenMP's count per thread: a new one would run torch
    on every core); close() stops them."""
    import torch

    from agentroute import BaseRouter, RoutingDecision, set_torch_threads

    routed_on: list[threading.Thread] = []

    class Spy(BaseRouter):
        name = "spy"

        def route(self, graph, k=None):  # type: ignore[no-untyped-def]
            routed_on.append(threading.current_thread())
            return RoutingDecision(router=self.name, selected=["echo"], probs={"echo": 1.0})

    before = torch.get_num_threads()
    set_torch_threads(1)
    real_set = torch.set_num_threads
    set_on: list[tuple[str, int]] = []
    monkeypatch.setattr(
        torch, "set_num_threads", lambda n: (set_on.append((threading.current_thread().name, n)), real_set(n))
    )
    try:
        with AgentRoute([echo], Spy()) as ar:
            for i in range(6):
                assert ar.ask(f"hi {i}").text == f"hi {i}"
        threads = set(routed_on)
        assert len(threads) <= 2 and all(t.name.startswith("agentroute-loop") for t in threads)
        assert {(t.name, 1) for t in threads} <= set(set_on)  # each set itself to the chosen count
        for t in threads:
            t.join(timeout=5)
        assert not any(t.is_alive() for t in threads)
    finally:
        monkeypatch.undo()
        set_torch_threads(before)


def test_synchronous_calls_nested_in_a_routing_step_from_many_threads_all_finish() -> None:
    """A blocking step (a router) that asks the same instance synchronously holds a pool worker while its
    nested call runs: the nested call's loop gets threads of its own, so nothing waits on itself."""
    from agentroute import BaseRouter, RoutingDecision

    class AsksFirst(BaseRouter):
        name = "asks-first"

        def route(self, graph, k=None):  # type: ignore[no-untyped-def]
            if not graph.query.text.startswith("inner"):
                assert ar.ask("inner " + graph.query.text).text.startswith("inner")
            return RoutingDecision(router=self.name, selected=["echo"], probs={"echo": 1.0})

    ar = AgentRoute([echo], AsksFirst())
    answers: list[str] = []
    threads = [
        threading.Thread(target=lambda i=i: answers.append(ar.ask(f"q{i}").text), daemon=True) for i in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    ar.close()
    assert sorted(answers) == sorted(f"q{i}" for i in range(12))


def test_a_process_forked_after_a_question_answers_questions_too() -> None:
    """The prefork pattern (gunicorn, celery, multiprocessing's fork): a child inherits the parent's
    instance, but none of its worker threads; its questions must run (they waited forever, the pools
    counting on idle workers the child does not have)."""
    script = textwrap.dedent(
        """
        import os, sys, time
        from agentroute import AgentRoute, agent

        @agent(name="sync-echo")
        def sync_echo(q):
            return q.text

        ar = AgentRoute([sync_echo], "all", timeout_s=20)
        assert ar.ask("parent").text == "parent"
        pid = os.fork()
        if pid == 0:
            ok = ar.ask("child").text == "child" and ar.ask_many(["a", "b"])[1].text == "b"
            os._exit(0 if ok else 3)
        deadline = time.time() + 60
        while time.time() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                print("child exit", os.waitstatus_to_exitcode(status))
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            print("child hung")
        assert ar.ask("parent again").text == "parent again"
        ar.close()
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["child exit 0"], proc.stdout


def test_a_routing_step_still_blocked_does_not_hold_up_the_exit() -> None:
    """A routing step stuck (a stalled store or router) on a worker thread: the application closes and
    exits, and the process ends at once, not when the step returns."""
    script = textwrap.dedent(
        """
        import threading, time
        from agentroute import AgentRoute, BaseRouter, RoutingDecision, agent

        @agent(name="echo")
        def echo(q):
            return q.text

        class Stalled(BaseRouter):
            name = "stalled"

            def route(self, graph, k=None):
                time.sleep(60)
                return RoutingDecision(router=self.name, selected=["echo"], probs={"echo": 1.0})

        ar = AgentRoute([echo], Stalled())
        threading.Thread(target=lambda: ar.ask("stuck?"), daemon=True).start()
        time.sleep(1)
        ar.close()
        print("closed")
        """
    )
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.splitlines() == ["closed"], proc.stderr
    assert time.monotonic() - started < 40  # the step sleeps 60 s: the exit did not wait for it


def test_sync_agents_run_in_the_callers_context() -> None:
    """A sync agent sees what an async one sees: the application's context variables, and LangGraph's
    stream writer (its custom events reach the caller's stream)."""
    import contextvars

    from langgraph.config import get_stream_writer

    request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
    seen: list[str | None] = []

    @agent(name="reporter")
    def reporter(q):  # type: ignore[no-untyped-def]
        seen.append(request_id.get())
        get_stream_writer()({"note": f"working on {q.text}"})
        return "done"

    with AgentRoute([reporter], "all") as ar:
        request_id.set("req-7")
        assert ar.ask("first?").text == "done"
        graph = ar.as_graph().compile()
        custom = [c for mode, c in graph.stream({"question": "second?"}, stream_mode=["custom"]) if mode == "custom"]
    assert seen == ["req-7", "req-7"]
    assert {"note": "working on second?"} in custom


def test_a_refit_while_other_threads_route_never_routes_on_a_half_trained_router() -> None:
    """``fit`` trains aside and swaps in at the end: questions routed meanwhile use the previous model
    (they raised NotTrainedError while the guard's new router was not yet trained)."""
    from agentroute import AgentSpec, NotTrainedError, QueryGraphBuilder, make_examples, open_store
    from agentroute.routers.baselines import KnnRouter
    from agentroute.routers.fallback import guard_router
    from agentroute.testing.routing_log import synthetic_routing_log

    class SlowToTrain(KnnRouter):
        """Refuses to route until trained, and trains slowly (as a GNN does)."""

        fitted = False

        def fit(self, examples):  # type: ignore[no-untyped-def]
            time.sleep(0.05)
            super().fit(examples)
            self.fitted = True
            return self

        def route_many(self, graphs, k=None):  # type: ignore[no-untyped-def]
            if not self.fitted:
                raise NotTrainedError("not trained yet")
            return super().route_many(graphs, k)

    records = synthetic_routing_log(240, seed=3)
    store = open_store("memory")
    builder = QueryGraphBuilder(store, [AgentSpec(name=a) for a in sorted({a for r in records for a in r.agents})])
    builder.set_history(records)
    examples = make_examples(builder, records)
    router = guard_router(SlowToTrain(), SlowToTrain, True).fit(examples)
    graphs = [ex.graph for ex in examples[:20]]
    errors: list[BaseException] = []
    stop = threading.Event()

    def route_all_the_time() -> None:
        while not stop.is_set():
            try:
                router.route_many(graphs)
            except BaseException as e:  # noqa: BLE001 - what the test looks for
                errors.append(e)
                return

    threads = [threading.Thread(target=route_all_the_time) for _ in range(2)]
    for t in threads:
        t.start()
    for _ in range(3):
        router.fit(examples)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    store.close()
    assert errors == []


def test_a_question_asked_after_close_says_the_instance_is_closed() -> None:
    ar = AgentRoute([echo], "all")
    ar.close()
    with pytest.raises(RuntimeError, match="this AgentRoute is closed"):
        ar.ask("late?")
    assert ar._loop_threads == {}  # no worker pool made for it


def test_building_the_gnn_leaves_the_warning_filters_alone(monkeypatch) -> None:
    """The GNN's layers are built without ``catch_warnings`` (which, when it exits, resets the filters of
    every thread: another thread's new filter was lost) and without a warning to silence."""
    import warnings

    from agentroute.routers.gnn.model import GNNScorer

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("warnings.catch_warnings called")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monkeypatch.setattr(warnings, "catch_warnings", refuse)
        try:
            GNNScorer({"query": 8, "entity": 8, "agent": 8, "past": 8}, hidden=16, heads=2, layers=2)
        finally:
            monkeypatch.undo()
    assert [str(w.message) for w in caught if "node types" in str(w.message)] == []


def test_a_sync_agent_that_calls_another_agent_gives_it_a_thread_of_its_own() -> None:
    """The caller's context reaches a sync agent, but not agentroute's executor setting: a sub-agent it
    invokes runs on its own daemon thread instead of queueing behind its caller on a one-thread pool."""
    import asyncio

    from agentroute import Query

    @agent(name="sub")
    def sub(q):  # type: ignore[no-untyped-def]
        return "sub:" + q.text

    @agent(name="caller")
    def caller(q):  # type: ignore[no-untyped-def]
        return asyncio.run(sub.invoke(Query(text=q.text), 3)).answer

    with AgentExecutor(max_workers=1) as pool, AgentRoute([caller], "all", executor=pool, timeout_s=10) as ar:
        answer = ar.ask("x")
    assert (answer.text, [r.error for r in answer.results]) == ("sub:x", [None])


def test_torch_threads_reaches_the_worker_threads_and_restores_them(monkeypatch) -> None:
    import torch

    from agentroute import BaseRouter, RoutingDecision, torch_threads

    counts: list[int] = []

    class Counts(BaseRouter):
        name = "counts"

        def route(self, graph, k=None):  # type: ignore[no-untyped-def]
            counts.append(torch.get_num_threads())
            return RoutingDecision(router=self.name, selected=["echo"], probs={"echo": 1.0})

    monkeypatch.setattr("agentroute.threads._CHOSEN", [])  # nothing chosen with set_torch_threads
    original = torch.get_num_threads()
    torch.set_num_threads(3)  # the application's own count, on its thread
    try:
        with AgentRoute([echo], Counts()) as ar:
            with torch_threads(1):
                ar.ask("inside")
            ar.ask("after")
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(original)
    assert counts == [1, 3]  # the worker followed the block, then went back to the count before it
