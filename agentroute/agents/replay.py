"""Agents that replay a routing log: each answers a question with what it was recorded to answer.

This lets every router be trained and evaluated offline on real multi-agent logs, with the same
execution path as live agents. A question missing from an agent's log (or without a score) counts as
"not run".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agentroute.agents.base import Agent, make_spec
from agentroute.agents.pool import AgentPool
from agentroute.types import AgentRecord, AgentResult, AgentSpec, Query, RunRecord

NOT_IN_LOG = "not in log"


class ReplayAgent(Agent):
    """Answers ``query`` from ``answers[query.id]``: the recorded prediction, score, cost and latency."""

    def __init__(self, spec_or_name: AgentSpec | str, answers: Mapping[str, AgentRecord]) -> None:
        if isinstance(spec_or_name, AgentSpec):
            self.spec = spec_or_name
        else:
            self.spec = make_spec(spec_or_name, description=f"Recorded answers of {spec_or_name} (routing log)")
        self.answers = answers

    def replay(self, query: Query) -> AgentResult:
        record = self.answers.get(query.id)
        if record is None or record.score is None:
            return AgentResult(agent=self.name, error=NOT_IN_LOG)
        cost = record.cost_usd if record.cost_usd is not None else self.spec.cost_per_call
        return AgentResult(
            agent=self.name,
            answer=record.pred if record.pred is not None else "",
            score=record.score,
            cost=cost,
            latency_s=record.latency_s or 0.0,
        )

    def run(self, query: Query) -> AgentResult:
        return self.replay(query)

    async def arun(self, query: Query) -> AgentResult:
        return self.replay(query)

    async def invoke(self, query: Query, timeout: float | None = None) -> AgentResult:
        """The recorded outcome as is (recorded cost and latency, not those of the replay itself)."""
        return self.replay(query)


def replay_pool(records: Sequence[RunRecord], specs: Mapping[str, AgentSpec] | None = None) -> AgentPool:
    """One ``ReplayAgent`` per agent name in ``records`` (first-seen order).

    ``specs`` may give descriptions/costs per agent; otherwise an agent's ``cost_per_call`` is its mean
    recorded ``cost_usd`` (0 when the log has none).
    """
    answers: dict[str, dict[str, AgentRecord]] = {}
    for run in records:
        for name, record in run.agents.items():
            answers.setdefault(name, {})[run.qid] = record
    agents: list[Agent] = []
    for name, by_qid in answers.items():
        spec = (specs or {}).get(name)
        if spec is None:
            costs = [r.cost_usd for r in by_qid.values() if r.cost_usd is not None]
            spec = make_spec(
                name,
                description=f"Recorded answers of {name} (routing log)",
                cost_per_call=sum(costs) / len(costs) if costs else 0.0,
            )
        agents.append(ReplayAgent(spec, by_qid))
    return AgentPool(agents)
