"""The Router protocol (and the abilities a router declares by implementing more of them), ``BaseRouter``,
and the set-selection rules shared by every router. The registry of names is ``routers/registry.py``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover - listing routers imports no model code
    from agentroute.types import AgentResult, Query, QueryGraph, RoutingDecision, TrainExample


class NotTrainedError(RuntimeError):
    """A learned router asked to route (or save) before it was fitted or loaded."""


@runtime_checkable
class Router(Protocol):
    """Picks a set of agents for a query graph.

    An implementer guarantees: ``name`` is the name decisions carry; ``fit(examples)`` learns only from the
    examples given (graphs built from training history, plus the agents' recorded scores) and returns
    the router itself (routers that need no training ignore it); ``route`` uses only the graph (never the
    query's gold answer or recorded outcomes) and returns probabilities over ``graph.agent_names`` with
    ``selected`` a non-empty subset of them when there is any candidate (the top ``k`` when ``k`` is
    given), unless the decision carries the router's own ``answer`` (e.g. "out of scope"); ``route_many``
    equals ``[route(g, k) for g in graphs]``, only faster where it can be; and routing the same graph twice
    gives the same decision.
    """

    name: str

    def fit(self, examples: Sequence[TrainExample]) -> Router: ...

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision: ...

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]: ...


@runtime_checkable
class AsyncRouter(Protocol):
    """A router whose routing waits on I/O (an LLM call): the pipeline awaits ``aroute`` instead of ``route``."""

    async def aroute(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision: ...


@runtime_checkable
class TurnRouter(Protocol):
    """A multi-round router: it alternates with the agents inside the pipeline's graph.

    ``turn`` / ``aturn(graph, episode, results)`` takes one model turn (``episode`` None on the first; ``results``:
    the agent results so far) and returns the new episode: ``episode.pending`` (``{"agent", "query"}``)
    asks the pipeline to run that agent on that sub-question, ``episode.done`` ends the loop and
    ``decision(graph, episode)`` gives the final decision (with the router's own ``answer``).
    """

    def turn(self, graph: QueryGraph, episode: Any, results: Sequence[Any]) -> Any: ...

    async def aturn(self, graph: QueryGraph, episode: Any, results: Sequence[Any]) -> Any: ...

    def decision(self, graph: QueryGraph, episode: Any) -> RoutingDecision: ...


@runtime_checkable
class TracksSpend(Protocol):
    """A router that paces a budget over the questions it routes (a ``GuardedRouter`` calibrated with a target
    cost) and learns what each really cost: the router graph calls ``spent(query, results)`` once the
    question's agents have answered (``results`` carry their reported ``cost``). ``budget()`` says where the
    spending stands (``target_cost``, ``questions``, ``spent``, ``per_question``, ``charged``, ``lambda``),
    or None while the router has no budget; the server shows it at ``GET /v1/budget``."""

    def spent(self, query: Query, results: Sequence[AgentResult]) -> None: ...

    def budget(self) -> dict[str, Any] | None: ...


class BaseRouter:
    """Convenience base: ``route_many`` loops ``route``; ``fit`` does nothing."""

    name = "base"
    #: Declared: estimates come from recorded history (so agents without any get the cold-start path).
    #: Such routers may also define ``trained_agents() -> frozenset[str]``, the agents they learned about.
    learns_from_history = False
    #: Declared: ``route`` is quick CPU-only work (no I/O, no model, no lock a writer may hold), so under
    #: ``ainvoke`` the router graph calls it on the event loop instead of paying a worker-thread hop.
    nonblocking = False
    #: Declared: ``route_many`` on a batch depends on the whole batch (a budget paced over it), so
    #: ``AgentRoute.ask_many`` routes its questions together (a calibrated ``GuardedRouter`` says so).
    paces_batches = False

    def fit(self, examples: Sequence[TrainExample]) -> BaseRouter:
        return self

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        raise NotImplementedError

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]:
        return [self.route(g, k) for g in graphs]


RouterFactory = Callable[..., Router]


@runtime_checkable
class SharesTraining(Protocol):
    """A router whose training another instance can reuse: two routers with equal ``training_key()`` (not
    None) fitted on the same examples end up identical, so the second may ``share_training(first)``
    instead of training again. ``share_training`` returns the router itself, ready to route."""

    def training_key(self) -> Any: ...

    def share_training(self, other: Any) -> Router: ...


def normalise(probs: Mapping[str, float]) -> dict[str, float]:
    """Scale non-negative weights to sum to 1 (uniform when they sum to 0)."""
    total = float(sum(max(0.0, p) for p in probs.values()))
    if total <= 0:
        n = len(probs)
        return {a: 1.0 / n for a in probs} if n else {}
    return {a: max(0.0, p) / total for a, p in probs.items()}


def select_top_k(probs: Mapping[str, float], k: int) -> list[str]:
    """The k most probable agents (ties broken by name, so selection is deterministic)."""
    ranked = sorted(probs, key=lambda a: (-probs[a], a))
    return ranked[: max(1, k)]


def select_by_mass(
    probs: Mapping[str, float], mass: float, cap: int | None = None, tie: Mapping[str, float] | None = None
) -> list[str]:
    """The smallest most-probable set whose probability mass reaches ``mass``, at most ``cap`` agents.
    Equal probabilities go by name, or by ``tie`` (a number per agent, lowest first) when given."""
    ranked = sorted(probs, key=lambda a: (-probs[a], tie[a] if tie is not None else 0.0, a))
    chosen: list[str] = []
    total = 0.0
    for a in ranked:
        if cap is not None and len(chosen) >= cap:
            break
        chosen.append(a)
        total += probs[a]
        if total >= mass - 1e-12:
            break
    return chosen or ranked[:1]
