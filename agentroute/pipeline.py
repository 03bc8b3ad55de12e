"""The router graph itself: its state schemas, nodes and edges (``build_router_graph``).

``build_router_graph`` returns an *uncompiled* ``StateGraph`` so a host application chooses its own
checkpointer and store; ``AgentRoute`` (``workflow.py``) wraps it for asking questions and embedding. The
graph declares its input (the question) and output (answer, decision, results, support) schemas; the host
may rename those keys (``RouteKeys``). The query and its query graph stay in private channels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol, Union

from typing_extensions import TypedDict  # pydantic (LangGraph schemas) needs it before Python 3.12

from agentroute.agents.base import Agent
from agentroute.agents.executor import using_executor
from agentroute.agents.pool import AgentPool
from agentroute.aggregate import Aggregator, Planning, aggregate_async, prepare_decision
from agentroute.approval import approval_request, review
from agentroute.events import (
    aemit,
    agent_finish_event,
    agent_start_event,
    answer_event,
    decision_event,
    emit,
    review_event,
)
from agentroute.llm import run_closing_chat_models
from agentroute.routers.base import AsyncRouter, Router, TracksSpend, TurnRouter
from agentroute.routers.coldstart import route_with_cold_start
from agentroute.types import AgentResult, Answer, Query, QueryGraph, RoutingDecision
from agentroute.waves import next_wave

if TYPE_CHECKING:  # pragma: no cover - langgraph is imported when a graph is built, not on import
    from langgraph.graph import StateGraph

    from agentroute.nodes import Node


@dataclass(frozen=True)
class RouteKeys:
    """The state keys a host sees: the question in; the answer text, decision, agent results, vote support out.

    Rename them to fit a host graph's own state (``AgentRoute.as_subgraph(input_key=..., ...)``).
    """

    question: str = "question"
    answer: str = "answer"
    decision: str = "decision"
    results: str = "results"
    support: str = "support"

    def __post_init__(self) -> None:
        names = list(vars(self).values())
        clash = sorted(set(names) & set(_PRIVATE))
        if clash or len(set(names)) != len(names):
            raise ValueError(
                f"state keys must be distinct and not {list(_PRIVATE)} (used inside the router graph); got {names}"
            )


#: Channels only the router graph itself reads: the parsed query and its query graph (embeddings included),
#: a multi-round router's episode so far, and what the aggregator spent and noted (``answer_from`` reads
#: it when asked for it, ``ANSWER_CHANNELS``; a host graph never sees it).
_PRIVATE = ("query", "graph", "episode", "aggregation")


def gather_results(current: list[AgentResult] | None, update: list[AgentResult] | None) -> list[AgentResult]:
    """Reducer of the results channel: agents' results add up; ``None`` (a new question) starts afresh, so a
    thread that answers several questions never mixes their results."""
    return [] if update is None else [*(current or []), *update]


def route_schemas(keys: RouteKeys) -> tuple[type, type, type]:
    """(input, output, state) TypedDicts of the router graph for these key names."""
    inp = TypedDict("RouteInput", {keys.question: Union[str, Query]}, total=False)  # type: ignore[misc]  # noqa: UP007
    outputs: dict[str, Any] = {
        keys.answer: str,
        keys.decision: RoutingDecision,
        keys.results: list[AgentResult],
        keys.support: dict[str, float],
    }
    out = TypedDict("RouteOutput", outputs, total=False)  # type: ignore[misc]
    fields = {
        keys.question: Union[str, Query],  # noqa: UP007
        "query": Query,
        "graph": QueryGraph,
        "episode": Any,
        "aggregation": Any,
        **outputs,
        keys.results: Annotated[list[AgentResult], gather_results],
    }
    state = TypedDict("RouteState", fields, total=False)  # type: ignore[misc]
    return inp, out, state


RouteInput, RouteOutput, RouteState = route_schemas(RouteKeys())


class AgentTask(TypedDict):
    """What one ``Send`` carries to ``run_agent``."""

    query: Query
    agent: str


def as_query(question: str | Query, id: str | None = None) -> Query:
    if isinstance(question, Query):
        return question
    if not isinstance(question, str) or not question.strip():
        raise ValueError("a question must be a non-empty string or a Query")
    return Query(id=id or "", text=question)  # no id: one from the text


async def invoke_with_retries(agent: Agent, query: Query, timeout_s: float | None, retries: int) -> AgentResult:
    """Call an agent, retrying failed calls; the last result (maybe an error) is returned, never raised,
    with the cost and latency of every attempt (a budget must count the calls that failed too)."""
    result = await agent.invoke(query, timeout=timeout_s)
    cost, latency = result.cost, result.latency_s
    for _ in range(retries):
        if result.error is None:
            break
        result = await agent.invoke(query, timeout=timeout_s)
        cost, latency = cost + result.cost, latency + result.latency_s
    if cost == result.cost and latency == result.latency_s:
        return result
    return result.model_copy(update={"cost": cost, "latency_s": latency})


def no_answer_reason(results: Sequence[AgentResult]) -> str:
    """Why a question got no answer, e.g. ``no agent answered (a: timeout after 5s; b: empty answer)``."""
    if not results:
        return "no agent answered (none was called)"
    why = "; ".join(f"{r.agent}: {r.error or 'empty answer'}" for r in results)
    return f"no agent answered ({why})"


class BuildsQueryGraphs(Protocol):
    """What the ``build_graph`` node needs: a ``QueryGraphBuilder``, or graphs built beforehand."""

    def build(self, query: Query) -> QueryGraph: ...


def build_router_graph(
    agents: AgentPool,
    builder: BuildsQueryGraphs,
    router: Router,
    aggregator: Aggregator,
    *,
    k: int | None = None,
    timeout_s: float | None = 60.0,
    retries: int = 0,
    executor: Executor | None = None,
    cold_start: bool = True,
    approval: bool = False,
    keys: RouteKeys | None = None,
    fallback: int = 2,
) -> StateGraph:
    """Nodes: ``build_graph`` -> ``route`` [-> ``approve``] -> ``run_agent`` (one ``Send`` per agent of the
    wave) -> ``settle`` -> ``aggregate``.

    A decision without ``early_stop`` is a single wave of every selected agent. With it, ``settle`` (which
    waits for the whole wave) either sends the next wave back to ``run_agent`` or moves on to ``aggregate``
    once the answer can no longer change (``waves.next_wave``). Sync agents run on ``executor`` (default:
    the one in effect, see ``agents.executor``). With ``cold_start`` (default), agents with
    no history near the question are routed by their descriptions (``routers/coldstart.py``). When every
    agent called failed, up to ``fallback`` more are tried, the most probable first (``waves.py``). With
    ``approval``, ``approve`` pauses the run with ``interrupt`` until a person accepts, edits or rejects the
    decision (``agentroute/approval.py``). Every node works under both ``invoke`` and ``ainvoke``, and
    reports progress as events (``agentroute/events.py``). The graph declares its input (the question) and
    output (answer, decision, results, support) schemas, so callers never receive the query graph and its
    embeddings. Under ``ainvoke`` the cheap steps run on the event loop (``nodes.Node``); building the query
    graph (store, embedder) and a router that does not declare ``nonblocking`` run on LangGraph's worker
    threads. An ``AsyncRouter`` (an LLM router) is awaited under ``ainvoke``; a ``TurnRouter``
    (``multiround``) alternates ``route`` and ``run_agent`` instead (``add_turn_loop``; no ``approve`` step);
    a decision carrying the router's own ``answer`` (out of scope, a multi-round answer) skips aggregation.
    """
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send, interrupt

    from agentroute.nodes import Node

    keys = keys or RouteKeys()
    input_schema, output_schema, state_schema = route_schemas(keys)

    def build_graph(state: dict[str, Any]) -> dict[str, Any]:
        query = as_query(state[keys.question])
        fresh = {keys.results: None, "episode": None}  # a new question on a thread starts afresh
        return {"query": query, "graph": builder.build(query.for_routing()), **fresh}

    def checked(decision: RoutingDecision) -> RoutingDecision:
        unknown = [a for a in decision.selected if a not in agents]
        if unknown:
            raise ValueError(f"router {router.name!r} selected unknown agents: {unknown}")
        return decision

    def decided(decision: RoutingDecision) -> dict[str, Any]:
        emit(decision_event(checked(decision)))
        return {keys.decision: decision}

    def decide(graph: QueryGraph) -> RoutingDecision:
        decision = route_with_cold_start(router, [graph], k)[0] if cold_start else router.route(graph, k)
        return prepare_decision(aggregator, decision, graph)  # an answer-aware aggregator adds what it reads

    def route(state: dict[str, Any]) -> dict[str, Any]:
        return decided(decide(state["graph"]))

    async def aroute(state: dict[str, Any]) -> dict[str, Any]:
        if isinstance(router, AsyncRouter):
            graph = state["graph"]
            decision = prepare_decision(aggregator, await router.aroute(graph, k), graph)
        else:  # a nonblocking router: called right here, on the event loop
            decision = decide(state["graph"])
        await aemit(decision_event(checked(decision)))
        return {keys.decision: decision}

    def approve(state: dict[str, Any]) -> dict[str, Any]:
        routed = state[keys.decision]
        request = approval_request(state["query"], routed, agents.names)
        while True:  # a bad reply asks again (LangGraph replays earlier replies to earlier interrupts)
            try:
                action, decision = review(routed, interrupt(request), agents.names)
                break
            except ValueError as e:
                request = {**request, "error": str(e)}
        emit(review_event(action, decision))
        return {keys.decision: decision}

    plans = isinstance(aggregator, Planning)

    def fan_out(state: dict[str, Any]) -> list[Any] | str:  # list of Send
        query = state["query"].for_routing() if plans else None  # only a planning aggregator reads it
        wave = next_wave(state[keys.decision], aggregator, state.get(keys.results) or [], query, fallback)
        wave = [a for a in wave if a in agents]  # a fallback drawn from probs naming no pool agent is skipped
        if not wave:
            return "aggregate"
        return [Send("run_agent", AgentTask(query=state["query"], agent=name)) for name in wave]

    def settle(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    # The state's keys are chosen at run time (``keys``), so nodes take plain dicts, not the TypedDict
    # LangGraph's stubs ask of a function node (the ignores below).
    graph: StateGraph[Any, Any, Any, Any] = StateGraph(
        state_schema, input_schema=input_schema, output_schema=output_schema
    )
    # may block (store I/O, history load): LangGraph's worker thread
    graph.add_node("build_graph", build_graph)  # type: ignore[type-var]
    graph.add_node("run_agent", _agent_node(agents, keys, timeout_s, retries, executor))
    graph.add_node("aggregate", _aggregate_node(router, aggregator, keys))
    graph.add_edge(START, "build_graph")
    graph.add_edge("build_graph", "route")
    graph.add_edge("aggregate", END)
    if isinstance(router, TurnRouter):
        add_turn_loop(graph, router, decided, keys)
        return graph
    in_place = isinstance(router, AsyncRouter) or getattr(router, "nonblocking", False)
    # else: on a worker thread
    graph.add_node("route", Node("route", route, aroute) if in_place else route)  # type: ignore[type-var]
    graph.add_node("settle", Node("settle", settle), defer=True)
    dispatch = "route"
    if approval:
        graph.add_node("approve", approve)  # type: ignore[type-var]
        graph.add_edge("route", "approve")
        dispatch = "approve"
    dispatch_wave = Node("fan_out", fan_out)
    graph.add_conditional_edges(dispatch, dispatch_wave, ["run_agent", "aggregate"])
    graph.add_edge("run_agent", "settle")
    graph.add_conditional_edges("settle", dispatch_wave, ["run_agent", "aggregate"])
    return graph


def _agent_node(
    agents: AgentPool, keys: RouteKeys, timeout_s: float | None, retries: int, executor: Executor | None
) -> Node:
    """``run_agent``: one agent on the question (one ``Send`` each), its result appended to the results."""
    from agentroute.nodes import Node

    async def arun_agent(task: AgentTask) -> dict[str, Any]:
        await aemit(agent_start_event(task["agent"]))
        with using_executor(executor):
            result = await invoke_with_retries(agents[task["agent"]], task["query"], timeout_s, retries)
        await aemit(agent_finish_event(result))
        return {keys.results: [result]}

    def run_agent(task: AgentTask) -> dict[str, Any]:
        # Under a synchronous invoke each agent call gets its own event loop on LangGraph's worker thread;
        # the chat clients the agent opened for it are closed before it ends.
        emit(agent_start_event(task["agent"]))
        agent = agents[task["agent"]]
        with using_executor(executor):
            result = run_closing_chat_models(invoke_with_retries(agent, task["query"], timeout_s, retries), [agent])
        emit(agent_finish_event(result))
        return {keys.results: [result]}

    return Node("run_agent", run_agent, arun_agent)


def _aggregate_node(router: Router, aggregator: Aggregator, keys: RouteKeys) -> Node:
    """``aggregate``: the router's own answer or the aggregator's, then the question's spend charged to a
    router pacing a budget."""
    from agentroute.nodes import Node

    tracks_spend = router if isinstance(router, TracksSpend) else None  # asked once, not per question

    def charge(query: Query, results: Sequence[AgentResult]) -> None:
        if tracks_spend is not None:  # a budget stream counts what the question really cost
            tracks_spend.spent(query.for_routing(), results)

    async def aaggregate(state: dict[str, Any]) -> dict[str, Any]:
        results = sorted(state.get(keys.results) or [], key=lambda r: r.agent)
        answer = router_answer(state[keys.decision], results) or await aggregate_async(
            aggregator, state["query"].for_routing(), state[keys.decision], results
        )
        charge(state["query"], results)
        await aemit(answer_event(answer.text, answer.support, results))
        return {keys.answer: answer.text, keys.support: answer.support, "aggregation": aggregation(answer)}

    def aggregate(state: dict[str, Any]) -> dict[str, Any]:
        results = sorted(state.get(keys.results) or [], key=lambda r: r.agent)
        answer = router_answer(state[keys.decision], results) or run_closing_chat_models(
            aggregate_async(aggregator, state["query"].for_routing(), state[keys.decision], results), [aggregator]
        )
        charge(state["query"], results)
        emit(answer_event(answer.text, answer.support, results))
        return {keys.answer: answer.text, keys.support: answer.support, "aggregation": aggregation(answer)}

    return Node("aggregate", aggregate, aaggregate)


def router_answer(decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer | None:
    """The router's own answer (out of scope, a multi-round episode's answer), which replaces aggregation."""
    if decision.answer is None:
        return None
    return Answer(text=decision.answer, decision=decision, results=list(results))


def add_turn_loop(
    graph: StateGraph, router: TurnRouter, decided: Callable[[RoutingDecision], dict[str, Any]], keys: RouteKeys
) -> None:
    """A multi-round router's loop: ``route`` takes one model turn; a search goes to ``run_agent`` (the
    named agent on the sub-question) and its reply comes back to ``route``; the answer goes to ``aggregate``."""
    from langgraph.types import Send

    from agentroute.nodes import Node

    def after_turn(state: dict[str, Any], episode: Any) -> dict[str, Any]:
        if not episode.done:
            return {"episode": episode}
        return {"episode": episode, **decided(router.decision(state["graph"], episode))}

    def turn(state: dict[str, Any]) -> dict[str, Any]:
        episode = router.turn(state["graph"], state.get("episode"), state.get(keys.results) or [])
        return after_turn(state, episode)

    async def aturn(state: dict[str, Any]) -> dict[str, Any]:
        episode = await router.aturn(state["graph"], state.get("episode"), state.get(keys.results) or [])
        return after_turn(state, episode)

    def next_turn(state: dict[str, Any]) -> list[Any] | str:  # list of Send
        pending = state["episode"].pending
        if pending is None:
            return "aggregate"
        sub_question = state["query"].model_copy(update={"text": pending["query"]})
        return [Send("run_agent", AgentTask(query=sub_question, agent=pending["agent"]))]

    graph.add_node("route", Node("route", turn, aturn))
    graph.add_conditional_edges("route", Node("next_turn", next_turn), ["run_agent", "aggregate"])
    graph.add_edge("run_agent", "route")


def aggregation(answer: Answer) -> dict[str, Any]:
    """What the aggregator spent (a refining LLM) and its decision (a fallback noted in its rationale)."""
    return {"usage": answer.usage, "cost": answer.cost, "decision": answer.decision}


def answer_channels(keys: RouteKeys | None = None) -> list[str]:
    """The channels ``answer_from`` reads: the outputs, and the aggregator's spend and note."""
    keys = keys or RouteKeys()
    return [keys.answer, keys.decision, keys.results, keys.support, "aggregation"]


def answer_from(output: dict[str, Any], keys: RouteKeys | None = None) -> Answer:
    """The ``Answer`` of a finished run, from the router graph's channels (``answer_channels``): ``error``
    says why when no agent answered (even if an aggregator wrote a polite decline)."""
    keys = keys or RouteKeys()
    results = sorted(output.get(keys.results) or [], key=lambda r: r.agent)
    text = output[keys.answer]
    spent = output.get("aggregation") or {}
    decision = spent.get("decision") or output[keys.decision]
    answered = any(r.ok for r in results) or decision.answer is not None
    return Answer(
        text=text,
        decision=decision,
        results=results,
        support=output[keys.support],
        usage=spent.get("usage"),
        cost=float(spent.get("cost") or 0.0),
        error=None if text and answered else no_answer_reason(results),
    )
