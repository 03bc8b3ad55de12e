"""Early stopping: call a decision's agents in waves and stop once the answer is settled.

Why: with a probability-weighted vote, a third agent only matters when the first two disagree, so calling
all three in parallel wastes a call on most questions. A decision with ``early_stop`` is executed in
waves: each wave is the shortest run of pending agents (in selection order) whose answers, if they all
agreed with the current leader, would settle the vote; after each wave the aggregator is asked whether
the remaining agents could still change its answer. The final answer is the one calling every selected
agent would give, or a longer form of it: a skipped agent could at most have shortened it to a part of it
that the agents agree on (a vote merges an answer with a shorter one it begins or ends with). The LangGraph
pipeline and the replay benchmark both plan with ``next_wave``.

When every agent called has failed (raised, timed out, gave no answer), the next most probable agent is
called, up to ``fallback`` of them (``AgentRoute(fallback=2)``; the replay benchmark, whose recorded
agents never fail, uses none), so a failing agent does not fail the question.

An answer-aware aggregator (``agentroute/selection.py``) that is given the question decides itself, from
the answers so far, whether to stop or call one more agent; its answer may then differ from the vote's.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentroute.aggregate import Aggregator, Planning, Settling
from agentroute.normalize import normalize_answer
from agentroute.types import AgentResult, Query, RoutingDecision

_AGREE = "\x00agree"  # stands for "the same answer" when no agent has answered yet


def next_wave(
    decision: RoutingDecision,
    aggregator: Aggregator,
    results: Sequence[AgentResult],
    query: Query | None = None,
    fallback: int = 0,
) -> list[str]:
    """The agents to call next: [] when every selected agent has run or the answer is settled.

    ``fallback``: how many agents beyond the selection may be tried when every agent called failed, unless
    the decision says (``RoutingDecision.fallback``)."""
    if query is not None and isinstance(aggregator, Planning):
        planned = aggregator.plan(query, decision, results)
        if planned is not None:
            return planned or fallback_agent(decision, results, fallback)
    done = {r.agent for r in results}
    pending = [a for a in dict.fromkeys(decision.selected) if a not in done]
    if not pending:
        return fallback_agent(decision, results, fallback)
    if not decision.early_stop or not isinstance(aggregator, Settling):
        return pending
    if aggregator.settled(decision, results, pending):
        return []
    leader = _leading_answer(aggregator, decision, results)
    for n in range(1, len(pending)):
        agreeing = [AgentResult(agent=a, answer=leader) for a in pending[:n]]
        if aggregator.settled(decision, [*results, *agreeing], pending[n:]):
            return pending[:n]
    return pending


def fallback_agent(decision: RoutingDecision, results: Sequence[AgentResult], fallback: int = 0) -> list[str]:
    """The next agent to try when every agent called so far failed: the most probable one not called yet,
    while fewer than ``decision.fallback`` (None: ``fallback``) agents beyond the selection have been
    called; else []."""
    if not results or any(r.error is None for r in results):  # a missing answer alone is not a failure
        return []
    allowed = decision.fallback if decision.fallback is not None else fallback
    done = {r.agent for r in results}
    if len(done - set(decision.selected)) >= allowed:
        return []
    untried = [a for a in decision.probs if a not in done]
    return sorted(untried, key=lambda a: (-decision.probs[a], a))[:1]


def _leading_answer(aggregator: Aggregator, decision: RoutingDecision, results: Sequence[AgentResult]) -> str:
    answered = [r for r in results if r.ok and normalize_answer(r.answer)]
    if not answered:
        return _AGREE
    return aggregator.aggregate(Query(id="-", text="-"), decision, answered).text or _AGREE
