"""Defining, loading and replaying agents."""

from agentroute.agents.base import Agent, AgentDefinitionError, FunctionAgent, agent
from agentroute.agents.loading import AgentLoadError, load_agents
from agentroute.agents.pool import AgentPool
from agentroute.agents.replay import ReplayAgent, replay_pool

__all__ = [
    "Agent",
    "AgentDefinitionError",
    "AgentLoadError",
    "AgentPool",
    "FunctionAgent",
    "ReplayAgent",
    "agent",
    "load_agents",
    "replay_pool",
]
