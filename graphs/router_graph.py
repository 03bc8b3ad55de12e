"""LangGraph deployment entry point (see ``langgraph.json``): the router graph, configured from the environment.

Importing this module only builds the graph: it loads the agents, opens the store, builds the router
(a router that learns from history is fitted on the store's history, if it has any) and compiles. No
question is asked and no agent runs. The LangGraph server keeps each thread's checkpoints itself
(``langgraph dev``: in memory; a production server: its ``POSTGRES_URI``), so no checkpointer is compiled in.

Environment (all optional):

- ``AGENTROUTE_AGENTS``: agent pool, a ``.py`` file or module path (default: the built-in suite's tool agents).
- ``AGENTROUTE_ROUTER``: router name (default ``knn``; with no history, agents are routed by description).
- ``AGENTROUTE_MODEL``: a router checkpoint saved by ``agentroute train`` (used instead of fitting).
- ``AGENTROUTE_STORE``: graph store, ``memory`` (default), ``file:PATH`` or ``bolt://…`` (with NEO4J_USER and
  NEO4J_PASSWORD).
- ``AGENTROUTE_K``: agents per question (default: the router's own rule).
- ``AGENTROUTE_APPROVAL``: ``1`` pauses every run after routing until a person accepts, edits or rejects.
- ``AGENTROUTE_TORCH_THREADS``: torch's intra-op CPU threads for a router that runs on torch (default 1: the
  GNN's small graphs train and route fastest on one; with torch's default, fitting on 2 busy cores took
  ten times as long).

Input: ``{"question": "..."}``. Output: ``answer`` (text), ``decision``, ``results`` (one per agent called),
``support`` (vote mass per answer); progress events arrive with ``stream_mode="custom"``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentroute.commands import has_history, load_pool, load_router
from agentroute.kg.store import open_store
from agentroute.routers.registry import router_info
from agentroute.threads import set_torch_threads
from agentroute.workflow import AgentRoute


def make_app(env: Mapping[str, str] = os.environ) -> AgentRoute:
    """The ``AgentRoute`` the environment describes."""
    name = env.get("AGENTROUTE_ROUTER", "knn")
    model = env.get("AGENTROUTE_MODEL")
    k = _positive_int(env, "AGENTROUTE_K")
    threads = _positive_int(env, "AGENTROUTE_TORCH_THREADS")
    if router_info(name).device:  # this module is the application here: it may set a process-wide count
        set_torch_threads(threads or 1)
    router = load_router(name, Path(model) if model else None)
    ar = AgentRoute(
        load_pool(env.get("AGENTROUTE_AGENTS")),
        router,
        store=open_store(env.get("AGENTROUTE_STORE", "memory")),
        k=k,
    )
    if model is None and router_info(name).trainable and has_history(ar.store):
        ar.fit()
    return ar


def _positive_int(env: Mapping[str, str], name: str) -> int | None:
    """An optional whole number >= 1 from the environment; anything else is an error naming the variable."""
    text = env.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name}={text!r}: expected a whole number of at least 1")
    return int(text)


def make_graph(env: Mapping[str, str] = os.environ) -> Any:
    approval = env.get("AGENTROUTE_APPROVAL", "0").strip().lower() in ("1", "true", "yes")
    return make_app(env).as_graph(approval=approval).compile(name="agentroute")


graph = make_graph()
