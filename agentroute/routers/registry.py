"""The router registry: names -> lazily imported factories with declared capabilities, ``make_router`` (which
wraps a learned router in the do-no-harm guard) and ``load_router`` (which restores it from a checkpoint).

Importing it imports no router implementation (and so no torch): each built-in name maps to a
``"module:factory"`` that is imported when the router is first built.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agentroute.registry import resolve
from agentroute.routers.base import Router, RouterFactory


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
    ``baseline``, ``needs_llm``, ``replays_agents``: each field's comment says what it declares).

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
    from agentroute.routers.fallback import guard_router  # the guard's statistics: imported when first needed

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
