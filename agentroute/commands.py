"""Plain functions behind the CLI commands (so the CLI stays a thin shell and everything is scriptable)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agentroute.agents.loading import load_agents
from agentroute.agents.pool import AgentPool
from agentroute.kg.store import GraphStore, open_store
from agentroute.routers.base import Router, make_router
from agentroute.suite import build_suite
from agentroute.types import Answer
from agentroute.workflow import AgentRoute

Progress = Callable[[str], None]


def _quiet(msg: str) -> None:
    pass


def load_pool(agents: str | None, seed: int = 0) -> AgentPool:
    """The pool behind ``--agents``: a file or module, or the built-in suite's tool agents."""
    if agents is None:
        return build_suite(seed).agents
    return load_agents(agents)


def has_history(store: GraphStore) -> bool:
    return store.counts().get("PERFORMED", 0) > 0


def load_router(name: str, model: Path | None, seed: int = 0, device: str = "auto") -> Router:
    """A registered router by name, or a trained GNN checkpoint when ``model`` is given."""
    if model is not None:
        from agentroute.routers.gnn import GNNRouter

        return GNNRouter.load(model, device=device)
    return make_router(name, seed=seed)


def ask_one(
    question: str,
    *,
    agents: str | None = None,
    router: str = "knn",
    model: Path | None = None,
    store: str = "memory",
    k: int | None = None,
    seed: int = 0,
    timeout_s: float = 60.0,
    progress: Progress = _quiet,
) -> Answer:
    """Answer one question. With the built-in agents and an empty store, first profile the suite's
    training questions so a learned router has history to learn from."""
    graph_store = open_store(store)
    try:
        if agents is None:
            suite = build_suite(seed)
            pool = suite.agents
        else:
            pool = load_agents(agents)
        ar = AgentRoute(pool, load_router(router, model, seed), store=graph_store, k=k, timeout_s=timeout_s)
        if agents is None and not has_history(graph_store):
            progress(f"empty store: profiling {len(pool)} built-in agents on {len(suite.train)} training questions")
            suite.world.load_into(graph_store)
            ar.profile(suite.train)
        if model is None and has_history(graph_store):
            progress(f"fitting router {router!r} on the store's history")
            ar.fit()
        return ar.ask(question)
    finally:
        graph_store.close()
