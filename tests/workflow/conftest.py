"""A PostgreSQL server for the checkpointer tests: POSTGRES_URI if set, else a throw-away local cluster.

Without PostgreSQL binaries the postgres tests skip, except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from agentroute.testing.postgres_server import PostgresUnavailable, postgres_bindir, start_postgres


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    uri = os.environ.get("POSTGRES_URI")
    if uri:
        yield uri
        return
    try:
        postgres_bindir()
    except PostgresUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL checkpointer tests: {e}")
        pytest.skip(f"no PostgreSQL: set POSTGRES_URI or install postgresql ({e})")
    uri, stop = start_postgres()
    try:
        yield uri
    finally:
        stop()
