"""The built-in offline suite: a seeded world, questions about it, and tool agents with partial skills."""

from agentroute.suite.questions import Suite, build_suite
from agentroute.suite.world import World

__all__ = ["Suite", "World", "build_suite"]
