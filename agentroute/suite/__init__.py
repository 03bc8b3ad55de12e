"""The built-in offline suite: a seeded world, questions about it, and tool agents with partial skills."""

from agentroute.agents.pool import AgentPool
from agentroute.suite.questions import Suite, build_suite
from agentroute.suite.tools import make_tools
from agentroute.suite.world import World


def builtin_agents(seed: int = 0) -> AgentPool:
    """The suite's tool agents (calculator, converters, lookups, reader, generalist) for the world of ``seed``."""
    return AgentPool(make_tools(World.generate(seed), seed))


__all__ = ["Suite", "World", "build_suite", "builtin_agents"]
