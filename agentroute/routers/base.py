"""The Router protocol, the router registry (names -> lazily imported factories with declared capabilities)
and the set-selection rules shared by every router."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agentroute.registry import resolve

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


@dataclass(frozen=True)
class RouterInfo:
    """A registry entry: how to build a router and what it can do, known without importing it.

    ``target`` is a factory or ``"module:attribute"`` (imported on first use, so listing routers never
    loads torch). The capability fields are declared by whoever registers the router; entry points ask
    them instead of checking names.
    """

    name: str
    target: str | RouterFactory
    summary: str = ""
    #: ``fit`` learns from training examples (False: ``fit`` is a no-op).
    trainable: bool = True
    #: instances implement ``SharesTraining`` (e.g. ``gnn`` and ``gnn-top1`` share one training).
    shares_training: bool = False
    #: ``"module:attribute"`` of a ``load(path, device=...)`` that restores a saved router; such routers
    #: have ``save(path)`` and a ``device`` attribute after building.
    checkpoint: str | None = None
    #: the factory accepts ``device="auto"|"cpu"|"cuda"``.
    device: bool = False
    #: evaluation only: built with ``scores={query id: {agent: score}}``, the recorded outcomes no
    #: deployable router can see.
    reads_scores: bool = False
    #: a learned router that ``make_router`` wraps in the do-no-harm guard (``routers/fallback.py``):
    #: it falls back to the best single agent unless held-out data shows a gain (``guard=False``: bare).
    guarded: bool = False
    #: a reference router: benchmark reports compare every router with the most accurate baseline.
    baseline: bool = False
    #: the factory takes ``llm=`` (a ``ChatModel``; default: the endpoint configured in the environment), so
    #: it cannot be built without a configured endpoint (``bench run`` then skips it and says so).
    needs_llm: bool = False
    #: it asks agents itself while routing (multi-round): replayed on a routing log, it is built with
    #: ``replies={query id: {agent: recorded answer}}``.
    replays_agents: bool = False

    def factory(self) -> RouterFactory:
        return resolve(self.target)

    def loader(self) -> Callable[..., Router]:
        if self.checkpoint is None:
            raise ValueError(f"router {self.name!r} does not save checkpoints")
        return resolve(self.checkpoint)


_ROUTERS: dict[str, RouterInfo] = {}


def register_router(
    name: str, target: str | RouterFactory | None = None, **capabilities: Any
) -> Callable[[RouterFactory], RouterFactory]:
    """Register a router under ``name``; capabilities are ``RouterInfo`` fields (``summary``,
    ``trainable``, ``shares_training``, ``checkpoint``, ``device``, ``reads_scores``, ``guarded``,
    ``baseline``).

    Three forms: ``register_router("x", "pkg.mod:make_x", trainable=False)`` (lazy: nothing is imported
    until the router is built), ``register_router("x", make_x)``, and the decorator
    ``@register_router("x", ...)``. Decorating a factory whose name is already registered lazily keeps the
    declared capabilities unless new ones are given. Returns a decorator (a no-op for the first two forms).
    """

    def deco(factory: RouterFactory) -> RouterFactory:
        old = _ROUTERS.get(name)
        if old is not None and not capabilities:
            _ROUTERS[name] = replace(old, target=factory)
        else:
            summary = capabilities.pop("summary", None) or _first_line(factory.__doc__)
            _ROUTERS[name] = RouterInfo(name, factory, summary=summary, **capabilities)
        return factory

    if target is None:
        return deco
    _ROUTERS[name] = RouterInfo(name, target, **capabilities)
    return lambda factory: factory


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n", 1)[0]


def router_names() -> list[str]:
    """Every registered router name (imports nothing)."""
    return sorted(_ROUTERS)


def router_info(name: str) -> RouterInfo:
    """The registry entry of ``name``; ``ValueError`` naming the known routers when there is none."""
    info = _ROUTERS.get(name)
    if info is None:
        raise ValueError(f"unknown router {name!r}: expected one of {', '.join(sorted(_ROUTERS))}")
    return info


def make_router(name: str, **options: Any) -> Router:
    """Build a registered router by name, e.g. ``make_router("knn", k=10)``.

    A router registered ``guarded`` comes wrapped in the do-no-harm guard (``routers/fallback.py``);
    ``guard=False`` returns it bare and ``guard={...}`` tunes the guard (other routers ignore ``guard``).
    """
    info = router_info(name)
    guard = options.pop("guard", True)
    factory = info.factory()
    seed = int(options.get("seed", 0))  # the guard's, even for a router that takes none
    if "seed" in options and not _takes(factory, "seed"):  # commands pass a seed to every router
        options.pop("seed")
    router = factory(**options)
    if not info.guarded:
        return router
    from agentroute.routers.fallback import guard_router

    return guard_router(router, lambda: factory(**options), guard, seed=seed)


def _takes(factory: Callable[..., Any], option: str) -> bool:
    """Whether ``factory`` accepts the keyword ``option`` (by name, or through ``**kwargs``)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # no signature to read: pass it, as before
        return True
    return any(p.name == option or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def load_router(name: str, path: str | Path, **options: Any) -> Router:
    """Restore a router saved with ``save(path)`` by a router registered with a ``checkpoint`` loader
    (wrapped again in the guard it was saved with, if any)."""
    info = router_info(name)
    router = info.loader()(path, **options)
    extra = getattr(router, "extra", None)
    if not extra:
        return router
    from agentroute.routers.fallback import restore_guard

    hparams: dict[str, Any] = getattr(router, "hparams", dict)()
    return restore_guard(router, lambda: info.factory()(**{**hparams, **options}), extra)


#: The routers a comparison runs when none are named (CLI ``bench run``, quickstart, replay benchmark).
DEFAULT_ROUTERS: tuple[str, ...] = ("gnn", "gnn-top1", "knn", "mlp", "best-single", "all", "random", "oracle")

#: Loads a checkpoint given without a router that saves checkpoints (``agentroute ask --model model.pt``).
CHECKPOINT_ROUTER = "gnn"

# The built-in routers, imported on first use.
_GNN = "agentroute.routers.gnn.router"
_BASE = "agentroute.routers.baselines"
register_router(
    "gnn",
    f"{_GNN}:make_gnn_router",
    summary="heterogeneous GNN over the query graph; selects a set of agents",
    shares_training=True,
    checkpoint=f"{_GNN}:GNNRouter.load_unguarded",
    device=True,
    guarded=True,
)
register_router(
    "gnn-top1",
    f"{_GNN}:make_gnn_top1_router",
    summary="the GNN router calling exactly one agent",
    shares_training=True,
    checkpoint=f"{_GNN}:GNNRouter.load_unguarded",
    device=True,
    guarded=True,
)
_KNN = "similarity-weighted scores of similar past questions"
register_router("knn", f"{_BASE}:KnnRouter", summary=_KNN, guarded=True, baseline=True)
_MLP = "small MLP from the query embedding to agent scores"
register_router("mlp", "agentroute.routers.mlp:MlpRouter", summary=_MLP, guarded=True, baseline=True)
_BEST = "always the best agent on training data"
register_router("best-single", f"{_BASE}:BestSingleRouter", summary=_BEST, baseline=True)
_TASK = "the best agent for the question's recognised task (logs with task labels)"
register_router("per-task", "agentroute.routers.per_task:PerTaskRouter", summary=_TASK, guarded=True, baseline=True)
register_router(
    "description",
    "agentroute.routers.description:DescriptionRouter",
    summary="agents whose description and skills match the question (no history needed)",
    trainable=False,
)
register_router("all", f"{_BASE}:AllRouter", summary="every agent (a majority vote)", trainable=False, baseline=True)
register_router("random", f"{_BASE}:RandomRouter", summary="one agent at random", trainable=False, baseline=True)
register_router(
    "oracle",
    f"{_BASE}:OracleRouter",
    summary="EVALUATION ONLY: routes with the recorded scores (the ceiling)",
    trainable=False,
    reads_scores=True,
)
register_router(
    "reasoning",
    "agentroute.routers.reasoning:ReasoningRouter",
    summary="an LLM reads the agents' descriptions and picks up to 3 (TCAR format)",
    needs_llm=True,
)
register_router(
    "multiround",
    "agentroute.routers.multiround:MultiRoundRouter",
    summary="an LLM asks agents turn by turn, then answers (Router-R1 format)",
    trainable=False,
    needs_llm=True,
    replays_agents=True,
)


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
