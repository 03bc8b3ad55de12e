"""A third-party store runs the conformance suite from ``agentroute.testing`` in its own test module."""

from __future__ import annotations

import pytest

from agentroute.testing import store_conformance

pytest_plugins = ["pytester"]

MODULE = """
import pytest
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.testing.store_conformance import *  # noqa: F403


class ThirdPartyStore(NetworkXStore):
    {body}


@pytest.fixture
def store():
    s = ThirdPartyStore()
    yield s
    s.close()
"""


def test_a_conforming_store_passes_every_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine=MODULE.format(body="pass"))
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-p", "no:asyncio")
    n = len(store_conformance.__all__) + 2  # the label test runs for three labels
    result.assert_outcomes(passed=n)


def test_a_store_that_forgets_deletes_fails_the_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine=MODULE.format(body="def delete_query(self, id):\n        return None"))
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-p", "no:asyncio")
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] >= 1
    result.stdout.fnmatch_lines(["*FAILED test_mine.py::test_delete_query_removes_node_and_its_edges_only*"])
