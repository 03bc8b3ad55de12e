"""Replay one routed question from a routing log's recorded answers: the agents it would have called,
wave by wave, what they answered and scored, and what they cost. The benchmark (``replay.py``) and the
cost-quality sweep (``curves.py``) both score routing decisions this way."""

from __future__ import annotations

from agentroute.aggregate import Aggregator
from agentroute.bench.metrics import answer_score, executed, query_cost
from agentroute.types import AgentResult, Query, RoutingDecision, RunRecord
from agentroute.waves import next_wave


def replay_question(
    aggregator: Aggregator, query: Query, decision: RoutingDecision, record: RunRecord
) -> tuple[float, list[str], float | None]:
    """Score, executed agents and cost of one routed question, from the recorded predictions.

    Agents are "called" wave by wave exactly as the LangGraph pipeline would (``waves.next_wave``), so an
    early-stopping decision is charged only for the agents it actually needed.
    """
    runnable = executed(decision.selected, record)
    plan = decision.model_copy(update={"selected": runnable})
    results: list[AgentResult] = []
    while wave := next_wave(plan, aggregator, results, query):
        results += [
            AgentResult(
                agent=a,
                answer=record.agents[a].pred,
                score=record.agents[a].score,
                cost=record.agents[a].cost_usd or 0.0,
            )
            for a in wave
        ]
    ran = [r.agent for r in results]
    # A router that answers itself (out of scope, multi-round) is scored on its own answer, and its own LLM
    # spend is part of the question's cost.
    text = decision.answer if decision.answer is not None else aggregator.aggregate(query, decision, results).text
    cost = query_cost(ran, record)
    return answer_score(text, ran, decision, record), ran, None if cost is None else cost + decision.cost
