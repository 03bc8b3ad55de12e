"""The GraphStore conformance suite (``agentroute.testing.store_conformance``) against every built-in backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentroute.kg.store import GraphStore
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.testing.store_conformance import *  # noqa: F403 - pytest collects the suite's tests


@pytest.fixture(params=["networkx", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    if request.param == "networkx":
        s = NetworkXStore()
        yield s
        s.close()
    else:
        yield request.getfixturevalue("neo4j_store")
