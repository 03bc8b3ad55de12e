"""An ordered set of agents with unique names: what a router routes between."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from agentroute.agents.base import Agent, AgentDefinitionError
from agentroute.types import AgentSpec


class AgentPool:
    """Agents by name, in the order they were added. Duplicate names are an error."""

    def __init__(self, agents: Iterable[Agent] = ()) -> None:
        self._agents: dict[str, Agent] = {}
        for a in agents:
            self.add(a)

    def add(self, agent: Agent) -> None:
        if not isinstance(agent, Agent):
            if isinstance(agent, type) and issubclass(agent, Agent):
                raise AgentDefinitionError(f"expected an Agent, got the class {agent.__name__!r}: instantiate it")
            if callable(agent) and hasattr(agent, "__name__"):
                name = agent.__name__
                raise AgentDefinitionError(
                    f"expected an Agent, got the function {name!r}: decorate it with @agent(name=...) or wrap "
                    f"it, FunctionAgent({name}, name={name!r})"
                )
            raise AgentDefinitionError(f"expected an Agent, got {type(agent).__name__}: {agent!r}")
        if agent.name in self._agents:
            raise AgentDefinitionError(f"duplicate agent name {agent.name!r}")
        self._agents[agent.name] = agent

    def __getitem__(self, name: str) -> Agent:
        try:
            return self._agents[name]
        except KeyError:
            raise KeyError(f"no agent named {name!r}; known: {', '.join(self._agents)}") from None

    def get(self, name: str) -> Agent | None:
        """The agent named ``name``, or None."""
        return self._agents.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._agents

    def __iter__(self) -> Iterator[Agent]:
        return iter(self._agents.values())

    def __len__(self) -> int:
        return len(self._agents)

    @property
    def names(self) -> list[str]:
        return list(self._agents)

    @property
    def specs(self) -> list[AgentSpec]:
        return [a.spec for a in self._agents.values()]
