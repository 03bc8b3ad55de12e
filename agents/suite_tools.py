"""The built-in suite's tool agents as a loadable pool: ``--agents agents/suite_tools.py``.

Set ``AGENTROUTE_SUITE_SEED`` to match a suite built with another seed (the lookups' knowledge is seeded).
"""

from __future__ import annotations

import os

from agentroute.agents import Agent
from agentroute.suite import builtin_agents


def AGENTS() -> list[Agent]:  # noqa: N802 - the loader's conventional name
    return list(builtin_agents(seed=int(os.environ.get("AGENTROUTE_SUITE_SEED", "0"))))
