"""The ``AgentRoute`` facade over the router graph (``pipeline.py``: build graph -> route -> parallel agents
-> aggregate).

``AgentRoute`` compiles the graph for ``ask``/``aask``/``ask_many``, learns from runs (``profile``/``fit``),
and embeds it in a host LangGraph app: ``as_graph`` (uncompiled), ``as_subgraph`` (compiled, keys chosen
by the host) and ``as_node`` (a node for a host state of any shape).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from types import TracebackType
from typing import TYPE_CHECKING, Any

from agentroute.agents.base import Agent
from agentroute.agents.executor import AgentExecutor, this_process_lock, using_executor
from agentroute.agents.pool import AgentPool
from agentroute.aggregate import Aggregator, make_aggregator
from agentroute.events import Event
from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.embed import Embedder, make_embedder
from agentroute.kg.examples import make_examples
from agentroute.kg.extract import EntityExtractor, make_extractor
from agentroute.kg.store import GraphStore, open_store
from agentroute.llm import aclose_chat_models, close_built_chat_models, run_closing_chat_models
from agentroute.normalize import exact_match
from agentroute.pipeline import (  # noqa: F401 - re-exported: the graph's public names live here too
    BuildsQueryGraphs,
    RouteInput,
    RouteKeys,
    RouteOutput,
    RouteState,
    answer_channels,
    answer_from,
    as_query,
    build_router_graph,
    invoke_with_retries,
)
from agentroute.routers.base import Router
from agentroute.routers.coldstart import route_with_cold_start
from agentroute.routers.decided import DecidedRouter, decision_key
from agentroute.routers.pacing import PACE_MIN_BATCH
from agentroute.routers.registry import make_router
from agentroute.threads import LentPool, in_lent_thread
from agentroute.types import AgentRecord, AgentResult, Answer, Query, QueryGraph, RoutingDecision, RunRecord

if TYPE_CHECKING:  # pragma: no cover - langgraph is imported when a graph is built, not on import
    from langchain_core.runnables import Runnable
    from langgraph.graph import StateGraph


class AgentRoute:
    """Route questions to a set of agents, run them in parallel with LangGraph, aggregate one answer.

    >>> ar = AgentRoute(agents, router="knn")      # doctest: +SKIP
    >>> ar.profile(train_queries)                  # run every agent once, record scores in the store
    >>> ar.fit()                                   # train the router on the store's history
    >>> ar.ask("What is 12 * 7?").text
    >>> ar.close()                                 # or: with AgentRoute(...) as ar: ...

    Sync agents run on ``executor``; by default the instance makes its own ``AgentExecutor`` (daemon
    threads, so an agent stuck past its timeout never holds up process exit) and ``close()`` shuts it down
    without waiting. An executor you pass in stays yours: ``close()`` leaves it running. Likewise a store
    given by name is opened and closed here, a ``GraphStore`` object is left open, and a part's chat model
    built from a model name is closed here, a model object is left open. The worker threads of an instance
    dropped without ``close()`` stop once nothing (not even a graph it built) can reach them. ``router``,
    ``store``, ``aggregator``, ``embedder`` and ``extractor`` take registered names (``agentroute routers``
    lists routers).
    ``fallback``: when every agent called has failed, how many more to try, the most probable first.
    """

    def __init__(
        self,
        agents: AgentPool | Iterable[Agent],
        router: Router | str = "knn",
        *,
        store: GraphStore | str = "memory",
        aggregator: Aggregator | str = "weighted-vote",
        embedder: Embedder | str | None = None,
        extractor: EntityExtractor | str | None = None,
        k: int | None = None,
        k_similar: int = 10,
        timeout_s: float | None = 60.0,
        retries: int = 0,
        builder: QueryGraphBuilder | None = None,
        executor: Executor | None = None,
        cold_start: bool = True,
        fallback: int = 2,
    ) -> None:
        self.agents = agents if isinstance(agents, AgentPool) else AgentPool(agents)
        if not len(self.agents):
            raise ValueError("AgentRoute needs at least one agent")
        self.router = make_router(router) if isinstance(router, str) else router
        self.aggregator = make_aggregator(aggregator) if isinstance(aggregator, str) else aggregator
        self._owns_store = isinstance(store, str)
        self.store = open_store(store) if isinstance(store, str) else store
        try:  # what is built after the store opened closes it if it fails
            if isinstance(embedder, str):
                embedder = make_embedder(embedder)
            if isinstance(extractor, str):
                extractor = make_extractor(extractor)
            self.builder = builder or QueryGraphBuilder(
                self.store, self.agents.specs, embedder=embedder, extractor=extractor, k_similar=k_similar
            )
        except BaseException:
            if self._owns_store:
                self.store.close()
            raise
        self._owns_executor = executor is None
        self._loop_threads: dict[int, LentPool] = {}  # per process: lent to each synchronous call's loop
        self.executor: Executor = executor if executor is not None else AgentExecutor()
        self._closed = False
        self.k, self.timeout_s, self.retries = k, timeout_s, retries
        self.cold_start = cold_start
        self.fallback = fallback
        self._compiled: Any = None

    # -- LangGraph ---------------------------------------------------------------------------------

    def as_graph(self, *, approval: bool = False, keys: RouteKeys | None = None) -> StateGraph:
        """The uncompiled router graph: compile it with your own checkpointer (needed for ``approval``)."""
        return self._graph(self.router, approval=approval, keys=keys)

    def _graph(
        self,
        router: Router,
        *,
        approval: bool = False,
        keys: RouteKeys | None = None,
        builder: BuildsQueryGraphs | None = None,
    ) -> StateGraph:
        return build_router_graph(
            self.agents,
            builder or self.builder,
            router,
            self.aggregator,
            k=self.k,
            timeout_s=self.timeout_s,
            retries=self.retries,
            executor=self.executor,
            cold_start=self.cold_start,
            approval=approval,
            keys=keys,
            fallback=self.fallback,
        )

    # -- resources ---------------------------------------------------------------------------------

    @property
    def _parts(self) -> list[object]:
        """Everything that may call a chat model: the agents, the router and the aggregator."""
        return [*self.agents, self.router, self.aggregator]

    def close(self) -> None:
        """Shut down what this instance made: its executor (running agents are not waited for), its store and
        the connections of the chat models its parts built from a name. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._owns_executor:
            self.executor.shutdown(wait=False, cancel_futures=True)
        with this_process_lock():
            pool = self._loop_threads.pop(os.getpid(), None)
        if pool is not None:
            pool.close()
        if self._owns_store:
            self.store.close()
        close_built_chat_models(self._parts)

    async def aclose(self) -> None:
        """``close``, after closing the async chat clients the parts opened on this event loop."""
        if not self._closed:
            await aclose_chat_models(self._parts)
        self.close()

    def __enter__(self) -> AgentRoute:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> AgentRoute:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this AgentRoute is closed")

    def as_subgraph(
        self,
        input_key: str = "question",
        output_key: str = "answer",
        *,
        decision_key: str = "decision",
        results_key: str = "results",
        support_key: str = "support",
        approval: bool = False,
    ) -> Any:
        """The compiled router graph, to add as a node of a host graph that has these keys in its state.

        It has no checkpointer of its own, so it runs under (and resumes with) the host's. It writes the
        decision, results and support keys wherever the host's state has them: rename those a host uses.
        """
        keys = RouteKeys(input_key, output_key, decision_key, results_key, support_key)
        return self.as_graph(approval=approval, keys=keys).compile(name="agentroute")

    @property
    def compiled(self) -> Any:
        if self._compiled is None:
            self._compiled = self.as_subgraph()
        return self._compiled

    def as_node(
        self,
        input_key: str = "question",
        output_key: str = "answer",
        *,
        decision_key: str | None = None,
        results_key: str | None = None,
        details_key: str | None = None,
    ) -> Runnable:
        """A LangGraph node (sync and async) for a host graph with its own state: reads ``state[input_key]``
        (str or Query), writes the answer text to ``output_key`` and, when their keys are set, the
        ``RoutingDecision``, the list of ``AgentResult`` and the full ``Answer``.

        The router graph runs as a nested graph under the host's checkpointer, and its progress events are
        re-sent on the host's custom stream, once (``subgraphs=True`` adds the nested graph's updates).
        """
        from langchain_core.runnables import RunnableLambda
        from langgraph.config import get_stream_writer

        inner, channels = self.compiled, answer_channels()

        def publish(output: dict[str, Any]) -> dict[str, Any]:
            answer = answer_from(output)
            out: dict[str, Any] = {output_key: answer.text}
            for key, value in ((decision_key, answer.decision), (results_key, answer.results), (details_key, answer)):
                if key:
                    out[key] = value
            return out

        def node(state: dict[str, Any]) -> dict[str, Any]:
            writer, output = get_stream_writer(), {}
            stream = inner.stream(
                {"question": state[input_key]}, stream_mode=["custom", "values"], output_keys=channels
            )
            for mode, chunk in stream:
                if mode == "custom":
                    writer(chunk)
                else:
                    output = chunk
            return publish(output)

        async def anode(state: dict[str, Any]) -> dict[str, Any]:
            writer, output = get_stream_writer(), {}
            stream = inner.astream(
                {"question": state[input_key]}, stream_mode=["custom", "values"], output_keys=channels
            )
            async for mode, chunk in stream:
                if mode == "custom":
                    writer(chunk)
                else:
                    output = chunk
            return publish(output)

        return RunnableLambda(node, afunc=anode, name="agentroute")

    # -- asking ------------------------------------------------------------------------------------

    async def astream(self, question: str | Query) -> AsyncIterator[Event]:
        """The run's progress events as they happen; the last one is the ``answer`` event."""
        self._check_open()
        async for event in self.compiled.astream({"question": as_query(question)}, stream_mode="custom"):
            yield event

    async def aask(self, question: str | Query, on_event: Callable[[Event], None] | None = None) -> Answer:
        """Answer one question; ``on_event`` sees each progress event as it happens (``agentroute/events.py``)."""
        self._check_open()
        return await self._arun(self.compiled, question, on_event)

    async def _arun(
        self, compiled: Any, question: str | Query, on_event: Callable[[Event], None] | None = None
    ) -> Answer:
        if on_event is None:  # nobody to show events to: no custom stream, so LangGraph runs each step inline
            return answer_from(await compiled.ainvoke({"question": as_query(question)}, output_keys=answer_channels()))
        output: dict[str, Any] = {}
        stream = compiled.astream(
            {"question": as_query(question)}, stream_mode=["custom", "values"], output_keys=answer_channels()
        )
        async for mode, chunk in stream:
            if mode == "values":
                output = chunk
            elif on_event is not None:
                on_event(chunk)
        return answer_from(output)

    def ask(self, question: str | Query, on_event: Callable[[Event], None] | None = None) -> Answer:
        """Synchronous ``aask`` (it works inside a running event loop too, blocking it: there, ``await aask``)."""
        return self._sync(self.aask(question, on_event))

    async def aask_many(self, questions: Sequence[str | Query], concurrency: int = 8) -> list[Answer]:
        """Answer many questions, at most ``concurrency`` at a time, in input order.

        A router that paces a budget over a batch (``paces_batches``: calibrated with a target cost) routes
        all of them together first, so the batch spends the target (``routers/pacing.py``)."""
        self._check_open()
        queries = [as_query(q) for q in questions]
        compiled = self.compiled
        if getattr(self.router, "paces_batches", False) and len(queries) >= PACE_MIN_BATCH:
            graphs, decisions = await asyncio.to_thread(self._route_together, queries)
            decided = DecidedRouter(self.router, decisions)
            compiled = self._graph(decided, builder=_Prebuilt(self.builder, graphs)).compile(name="agentroute")
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(q: Query) -> Answer:
            async with gate:
                return await self._arun(compiled, q)

        return list(await asyncio.gather(*(one(q) for q in queries)))

    def _route_together(
        self, queries: Sequence[Query]
    ) -> tuple[dict[tuple[str, str], QueryGraph], dict[tuple[str, str], RoutingDecision]]:
        """One routing call for the whole batch (with cold start, as the graph's ``route`` node would): each
        question's query graph and decision, by ``decision_key``. The runs then read the same graphs."""
        graphs = [self.builder.build(q.for_routing()) for q in queries]
        routed = (
            route_with_cold_start(self.router, graphs, self.k)
            if self.cold_start
            else self.router.route_many(graphs, self.k)
        )
        by_key = {decision_key(g.query): g for g in graphs}
        return by_key, {decision_key(g.query): d for g, d in zip(graphs, routed, strict=True)}

    def ask_many(self, questions: Sequence[str | Query], concurrency: int = 8) -> list[Answer]:
        return self._sync(self.aask_many(questions, concurrency))

    def _sync(self, coro: Any) -> Any:
        """Run a coroutine for a synchronous method on a fresh event loop, closing the chat clients opened
        for that loop before it goes: an ``OpenAIChatModel`` keeps one async client per loop. Inside a
        running event loop (a notebook) the loop runs on a helper thread and blocks the caller's loop
        until done: async code should ``await`` the ``a*`` variant."""
        pool = None
        if not self._closed and in_lent_thread():  # called from a worker of the pool: threads of its own
            return run_closing_chat_models(coro, self._parts)
        with this_process_lock():  # one pool (a forked child makes its own: it has none of the threads)
            if not self._closed:  # under the lock: close() takes it to close the pool
                pool = self._loop_threads.get(os.getpid())
                if pool is None:
                    pool = self._loop_threads[os.getpid()] = LentPool()
        if pool is None:
            coro.close()
            self._check_open()
        try:
            return run_closing_chat_models(coro, self._parts, pool)
        except Exception as e:
            if self._closed:  # closed while this call ran: say so (not "after shutdown", "Node cancelled")
                raise RuntimeError("this AgentRoute is closed") from e
            raise

    # -- learning ----------------------------------------------------------------------------------

    async def aprofile(
        self,
        queries: Sequence[Query],
        scorer: Callable[[str | None, Sequence[str]], float] = exact_match,
        concurrency: int = 8,
        record: bool = True,
    ) -> list[RunRecord]:
        """Run every agent on every (gold-labelled) query, score the answers, and record them in the store."""
        self._check_open()
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(q: Query) -> RunRecord:
            async with gate:
                with using_executor(self.executor):
                    results = await asyncio.gather(
                        *(invoke_with_retries(a, q, self.timeout_s, self.retries) for a in self.agents)
                    )
            cells = {
                r.agent: AgentRecord(
                    # A failed call is a wrong answer (score 0), not a missing one; its error is kept.
                    score=None if not q.gold else (0.0 if r.error else scorer(r.answer, q.gold)),
                    pred=r.answer,
                    cost_usd=recorded_cost(self.agents.get(r.agent), r),
                    latency_s=r.latency_s,
                    error=r.error,
                    **_token_fields(r),
                )
                for r in results
            }
            return RunRecord(qid=q.id, question=q.text, gold=q.gold, agents=cells)

        runs = list(await asyncio.gather(*(one(q) for q in queries)))
        if record:
            self.record(runs)
        return runs

    def profile(
        self,
        queries: Sequence[Query],
        scorer: Callable[[str | None, Sequence[str]], float] = exact_match,
        concurrency: int = 8,
        record: bool = True,
    ) -> list[RunRecord]:
        return self._sync(self.aprofile(queries, scorer, concurrency, record))

    def learn(
        self,
        question: str | Query,
        answer: Answer,
        *,
        gold: str | Sequence[str] | None = None,
        scores: Mapping[str, float] | None = None,
        scorer: Callable[[str | None, Sequence[str]], float] = exact_match,
    ) -> RunRecord:
        """Feedback on an answered question: record how each agent called for ``answer`` did, from the
        ``gold`` answer(s) (scored with ``scorer``) or from ``scores`` given per agent (agents not named stay
        unscored). The run joins the history at once: the next similar question's graph shows it, and the
        next ``fit()`` learns from it. Returns the recorded run."""
        if (gold is None) == (scores is None):
            raise ValueError("learn: give either gold (the right answer) or scores (per agent)")
        query = as_query(question)
        golds = None if gold is None else ([gold] if isinstance(gold, str) else list(gold))
        cells = {}
        for r in answer.results:
            if golds is not None:
                score: float | None = 0.0 if r.error else scorer(r.answer, golds)
            else:
                score = None if scores is None or r.agent not in scores else float(scores[r.agent])
            cells[r.agent] = AgentRecord(
                score=score,
                pred=r.answer,
                cost_usd=recorded_cost(self.agents.get(r.agent), r),
                latency_s=r.latency_s,
                error=r.error,
                **_token_fields(r),
            )
        unknown = sorted(set(scores or {}) - set(cells))
        if unknown:
            raise ValueError(f"learn: scores for agents this answer did not call: {', '.join(unknown)}")
        # feedback on a question learned before keeps what it does not replace: the gold, other scores
        stored = self.store.get_node("Query", query.id) or {}
        if golds is None and stored.get("gold") is not None:
            golds = list(stored["gold"])
        for edge in self.store.edges("PERFORMED", src=query.id) if stored else ():
            before = AgentRecord(
                score=edge.get("score"),
                pred=edge.get("pred"),
                cost_usd=edge.get("cost"),
                latency_s=edge.get("latency_s"),
                steps=edge.get("steps"),
            )
            now = cells.get(edge["dst"])
            if now is None:
                cells[edge["dst"]] = before
            elif now.score is None:
                cells[edge["dst"]] = now.model_copy(update={"score": before.score})
        run = RunRecord(qid=query.id, question=query.text, gold=golds, agents=cells)
        self.record([run])
        return run

    def record(self, runs: Sequence[RunRecord]) -> None:
        """Store runs (query, entities, PERFORMED scores) and make them visible to the query graphs."""
        extract = self.builder.extractor.extract
        self.store.record_many(runs, [[e.id for e in extract(r.question)] for r in runs])
        self.builder.add_history(runs)

    def fit(self, records: Sequence[RunRecord] | None = None) -> AgentRoute:
        """Train the router on ``records`` (default: the store's whole history), skipping rows that score
        none of this pool's agents; an ``answer-aware`` aggregator is then fitted on the router's held-out
        questions and their recorded answers."""
        from agentroute.selection import AnswerAware, fit_for

        if records is not None:
            self.builder.set_history(records)
        else:
            self.builder.refresh()
            records = list(self.store.history())
        names = set(self.agents.names)
        usable = [r for r in records if names & set(r.scores())]  # rows about other agents teach nothing here
        if records and not usable:
            raise ValueError(
                f"none of the {len(records)} recorded questions has a score for an agent of this pool "
                f"({', '.join(sorted(names))}): profile the pool first (agentroute profile)"
            )
        records = usable
        examples = make_examples(self.builder, records)
        self.router.fit(examples)
        if isinstance(self.aggregator, AnswerAware):
            self.aggregator.selector = fit_for(self.router, examples, records)
        return self


class _Prebuilt:
    """The query graphs a paced batch was routed on, handed to each question's run (built once, and the run
    reads the graph its decision was made on); any other question is built by ``builder``."""

    def __init__(self, builder: BuildsQueryGraphs, graphs: dict[tuple[str, str], QueryGraph]) -> None:
        self.builder = builder
        self.graphs = graphs

    def build(self, query: Query) -> QueryGraph:
        graph = self.graphs.get(decision_key(query))
        return graph if graph is not None else self.builder.build(query)


def recorded_cost(agent: Agent | None, result: AgentResult) -> float | None:
    """What a call cost, as a routing log or store records it: None when nothing says (no cost reported,
    no ``cost_per_call`` declared), so a prices file can price the call later; a declared 0 is a real 0
    (a free tool)."""
    if result.cost or (agent is not None and "cost_per_call" in agent.spec.model_fields_set):
        return result.cost
    return None


def _token_fields(result: AgentResult) -> dict[str, int]:
    """Routing-log token cells of an LLM agent's result (``bench/costs.py`` prices them)."""
    if result.usage is None:
        return {}
    u = result.usage
    return {"tokens": u.total, "input_tokens": u.prompt_tokens, "output_tokens": u.completion_tokens}
