"""LangGraph deployment entry point: the router graph over the built-in suite's tool agents.

``langgraph dev`` (or any LangGraph server) loads ``graph`` from here via ``langgraph.json``. Set
``AGENTROUTE_AGENTS`` to a pool file, ``AGENTROUTE_ROUTER`` to a router name and ``AGENTROUTE_STORE`` to a
store URL to serve your own agents; with the built-in agents and an empty store, the suite's training
questions are profiled first so the router has history to learn from.
"""

from __future__ import annotations

import os

from agentroute.commands import load_pool
from agentroute.kg.store import open_store
from agentroute.suite import build_suite
from agentroute.workflow import AgentRoute


def make_app() -> AgentRoute:
    agents = os.environ.get("AGENTROUTE_AGENTS")
    store = open_store(os.environ.get("AGENTROUTE_STORE", "memory"))
    ar = AgentRoute(load_pool(agents), os.environ.get("AGENTROUTE_ROUTER", "knn"), store=store)
    if agents is None and store.counts().get("PERFORMED", 0) == 0:
        suite = build_suite(0)
        suite.world.load_into(store)
        ar.profile(suite.train)
    if store.counts().get("PERFORMED", 0):
        ar.fit()
    return ar


graph = make_app().as_graph().compile()
