"""The LangGraph pipeline (build graph -> route -> parallel agents -> aggregate) and the ``AgentRoute`` facade.

``build_router_graph`` returns an *uncompiled* ``StateGraph`` so a host application chooses its own
checkpointer and store; ``AgentRoute`` compiles one for ``ask``/``aask``/``ask_many`` and offers
``as_node`` to drop the whole router into another LangGraph app as a single node.
"""

from __future__ import annotations

import asyncio
import hashlib
import operator
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from agentroute.agents.base import Agent
from agentroute.agents.executor import AgentExecutor, using_executor
from agentroute.agents.pool import AgentPool
from agentroute.aggregate import Aggregator, aggregate_async, make_aggregator
from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.embed import Embedder
from agentroute.kg.examples import make_examples
from agentroute.kg.extract import EntityExtractor
from agentroute.kg.store import GraphStore, open_store
from agentroute.normalize import exact_match
from agentroute.routers.base import Router, make_router
from agentroute.routers.coldstart import route_with_cold_start
from agentroute.types import (
    AgentRecord,
    AgentResult,
    Answer,
    Query,
    QueryGraph,
    RoutingDecision,
    RunRecord,
)
from agentroute.waves import next_wave

if TYPE_CHECKING:  # pragma: no cover - langgraph is imported when a graph is built, not on import
    from langgraph.graph import StateGraph


class RouteState(TypedDict, total=False):
    """State of one question travelling through the router graph."""

    question: str
    query: Query
    graph: QueryGraph
    decision: RoutingDecision
    results: Annotated[list[AgentResult], operator.add]
    answer: Answer


class AgentTask(TypedDict):
    """What one ``Send`` carries to ``run_agent``."""

    query: Query
    agent: str


def as_query(question: str | Query, id: str | None = None) -> Query:
    if isinstance(question, Query):
        return question
    if not isinstance(question, str) or not question.strip():
        raise ValueError("a question must be a non-empty string or a Query")
    return Query(id=id or "q-" + hashlib.sha1(question.encode()).hexdigest()[:12], text=question)


async def invoke_with_retries(agent: Agent, query: Query, timeout_s: float | None, retries: int) -> AgentResult:
    """Call an agent, retrying failed calls; the last result (maybe an error) is returned, never raised."""
    result = await agent.invoke(query, timeout=timeout_s)
    for _ in range(retries):
        if result.error is None:
            break
        result = await agent.invoke(query, timeout=timeout_s)
    return result


def build_router_graph(
    agents: AgentPool,
    builder: QueryGraphBuilder,
    router: Router,
    aggregator: Aggregator,
    *,
    k: int | None = None,
    timeout_s: float | None = 60.0,
    retries: int = 0,
    executor: Executor | None = None,
    cold_start: bool = True,
) -> StateGraph:
    """Nodes: ``build_graph`` -> ``route`` -> ``run_agent`` (one ``Send`` per agent of the wave) -> ``settle``
    -> ``aggregate``.

    A decision without ``early_stop`` is a single wave of every selected agent. With it, ``settle`` (which
    waits for the whole wave) either sends the next wave back to ``run_agent`` or moves on to ``aggregate``
    once the answer can no longer change (``waves.next_wave``). Sync agents run on ``executor`` (default:
    the one in effect, see ``agents.executor``). With ``cold_start`` (default), agents with
    no history near the question are routed by their descriptions (``routers/coldstart.py``).
    """
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    def build_graph(state: RouteState) -> dict[str, Any]:
        query = state.get("query") or as_query(state["question"])
        return {"query": query, "graph": builder.build(query.for_routing())}

    def route(state: RouteState) -> dict[str, Any]:
        graph = state["graph"]
        decision = route_with_cold_start(router, [graph], k)[0] if cold_start else router.route(graph, k)
        unknown = [a for a in decision.selected if a not in agents]
        if unknown:
            raise ValueError(f"router {router.name!r} selected unknown agents: {unknown}")
        return {"decision": decision}

    def fan_out(state: RouteState) -> list[Any] | str:  # list of Send
        wave = next_wave(state["decision"], aggregator, state.get("results", []))
        if not wave:
            return "aggregate"
        return [Send("run_agent", AgentTask(query=state["query"], agent=name)) for name in wave]

    def settle(state: RouteState) -> dict[str, Any]:
        return {}

    async def run_agent(task: AgentTask) -> dict[str, Any]:
        with using_executor(executor):
            result = await invoke_with_retries(agents[task["agent"]], task["query"], timeout_s, retries)
        return {"results": [result]}

    async def aggregate(state: RouteState) -> dict[str, Any]:
        results = sorted(state.get("results", []), key=lambda r: r.agent)
        answer = await aggregate_async(aggregator, state["query"].for_routing(), state["decision"], results)
        return {"answer": answer}

    graph = StateGraph(RouteState)
    graph.add_node("build_graph", build_graph)
    graph.add_node("route", route)
    graph.add_node("run_agent", run_agent)
    graph.add_node("settle", settle, defer=True)
    graph.add_node("aggregate", aggregate)
    graph.add_edge(START, "build_graph")
    graph.add_edge("build_graph", "route")
    graph.add_conditional_edges("route", fan_out, ["run_agent", "aggregate"])
    graph.add_edge("run_agent", "settle")
    graph.add_conditional_edges("settle", fan_out, ["run_agent", "aggregate"])
    graph.add_edge("aggregate", END)
    return graph


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
    given by name is opened and closed here, a ``GraphStore`` object is left open.
    """

    def __init__(
        self,
        agents: AgentPool | Iterable[Agent],
        router: Router | str = "knn",
        *,
        store: GraphStore | str = "memory",
        aggregator: Aggregator | str = "weighted-vote",
        embedder: Embedder | None = None,
        extractor: EntityExtractor | None = None,
        k: int | None = None,
        k_similar: int = 10,
        timeout_s: float | None = 60.0,
        retries: int = 0,
        builder: QueryGraphBuilder | None = None,
        executor: Executor | None = None,
        cold_start: bool = True,
    ) -> None:
        self.agents = agents if isinstance(agents, AgentPool) else AgentPool(agents)
        if not len(self.agents):
            raise ValueError("AgentRoute needs at least one agent")
        self.router = make_router(router) if isinstance(router, str) else router
        self._owns_store = isinstance(store, str)
        self.store = open_store(store) if isinstance(store, str) else store
        self._owns_executor = executor is None
        self.executor: Executor = executor if executor is not None else AgentExecutor()
        self._closed = False
        self.aggregator = make_aggregator(aggregator) if isinstance(aggregator, str) else aggregator
        self.builder = builder or QueryGraphBuilder(
            self.store, self.agents.specs, embedder=embedder, extractor=extractor, k_similar=k_similar
        )
        self.k, self.timeout_s, self.retries = k, timeout_s, retries
        self.cold_start = cold_start
        self._compiled: Any = None

    # -- LangGraph ---------------------------------------------------------------------------------

    def as_graph(self) -> StateGraph:
        """The uncompiled router graph (compile it with your own checkpointer if you need one)."""
        return build_router_graph(
            self.agents,
            self.builder,
            self.router,
            self.aggregator,
            k=self.k,
            timeout_s=self.timeout_s,
            retries=self.retries,
            executor=self.executor,
            cold_start=self.cold_start,
        )

    # -- resources ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Shut down the executor and store this instance made (idempotent; running agents are not waited for)."""
        if self._closed:
            return
        self._closed = True
        if self._owns_executor:
            self.executor.shutdown(wait=False, cancel_futures=True)
        if self._owns_store:
            self.store.close()

    async def aclose(self) -> None:
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

    @property
    def compiled(self) -> Any:
        if self._compiled is None:
            self._compiled = self.as_graph().compile()
        return self._compiled

    def as_node(
        self, input_key: str = "question", output_key: str = "answer", details_key: str | None = None
    ) -> Callable[[dict[str, Any]], Any]:
        """An async LangGraph node: reads ``state[input_key]`` (str or Query), writes the answer text to
        ``output_key`` and, if ``details_key`` is set, the full ``Answer`` there."""

        async def node(state: dict[str, Any]) -> dict[str, Any]:
            answer = await self.aask(state[input_key])
            out: dict[str, Any] = {output_key: answer.text}
            if details_key:
                out[details_key] = answer
            return out

        node.__name__ = "agentroute"
        return node

    # -- asking ------------------------------------------------------------------------------------

    async def aask(self, question: str | Query) -> Answer:
        self._check_open()
        state = await self.compiled.ainvoke({"query": as_query(question)})
        return state["answer"]

    def ask(self, question: str | Query) -> Answer:
        """Synchronous ``aask`` (from inside a running event loop, use ``await aask`` instead)."""
        return _run(self.aask(question))

    async def aask_many(self, questions: Sequence[str | Query], concurrency: int = 8) -> list[Answer]:
        """Answer many questions, at most ``concurrency`` at a time, in input order."""
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(q: str | Query) -> Answer:
            async with gate:
                return await self.aask(q)

        return list(await asyncio.gather(*(one(q) for q in questions)))

    def ask_many(self, questions: Sequence[str | Query], concurrency: int = 8) -> list[Answer]:
        return _run(self.aask_many(questions, concurrency))

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
                    # A failed call is a wrong answer (score 0), not a missing one.
                    score=None if q.gold is None else (0.0 if r.error else scorer(r.answer, q.gold)),
                    pred=r.answer,
                    cost_usd=r.cost,
                    latency_s=r.latency_s,
                    tokens=None if r.usage is None else r.usage.total,
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
        return _run(self.aprofile(queries, scorer, concurrency, record))

    def record(self, runs: Sequence[RunRecord]) -> None:
        """Store runs (query, entities, PERFORMED scores) and make them visible to the query graphs."""
        extract = self.builder.extractor.extract
        self.store.record_many(runs, [[e.id for e in extract(r.question)] for r in runs])
        self.builder.add_history(runs)

    def fit(self, records: Sequence[RunRecord] | None = None) -> AgentRoute:
        """Train the router on ``records`` (default: the store's whole history)."""
        if records is not None:
            self.builder.set_history(records)
        else:
            self.builder.refresh()
            records = list(self.store.history())
        self.router.fit(make_examples(self.builder, records))
        return self


def _run(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError("called a synchronous AgentRoute method inside a running event loop; use the a* variant")
