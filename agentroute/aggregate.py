"""Aggregators: turn the selected agents' results into one answer.

``weighted-vote`` sums, per distinct normalised answer, the agents' log-odds of being right when the
router estimated each agent's chance (``RoutingDecision.reliability``; the GNN does), else the router's
probability (AgentRouter's rule); ``majority`` counts one vote per agent, ``top-one`` keeps the most
probable agent that answered. Both votes count an answer that begins or ends with a shorter one as a vote
for the shorter one.
Each can also say when its answer is ``settled``: no answer from the agents still pending could change
it (beyond shortening it), which is what lets an early-stopping decision skip them (``waves.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from agentroute.normalize import normalize_answer
from agentroute.registry import Registry
from agentroute.types import AgentResult, Answer, Query, QueryGraph, RoutingDecision


@runtime_checkable
class Aggregator(Protocol):
    """Turns the called agents' results into one answer.

    An implementer guarantees: ``aggregate`` never raises for failed or empty results (it returns an
    ``Answer`` with empty text when nothing usable came back), uses only ``decision`` and ``results``
    (never the query's gold answer), is deterministic for the same inputs, and returns ``decision`` and
    ``results`` unchanged on the ``Answer``. Being ``Settling`` as well lets early-stopping waves skip agents.
    """

    name: str

    def aggregate(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer: ...


@runtime_checkable
class AsyncAggregator(Protocol):
    """An aggregator with an async path (e.g. one that calls an LLM); the pipeline awaits it."""

    async def aaggregate(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer: ...


async def aggregate_async(
    aggregator: Aggregator, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]
) -> Answer:
    """``aaggregate`` when the aggregator has one, else ``aggregate``."""
    if isinstance(aggregator, AsyncAggregator):
        return await aggregator.aaggregate(query, decision, results)
    return aggregator.aggregate(query, decision, results)


@runtime_checkable
class Settling(Protocol):
    """An aggregator that can tell when the agents still pending could no longer change its answer."""

    def settled(self, decision: RoutingDecision, results: Sequence[AgentResult], pending: Sequence[str]) -> bool: ...


@runtime_checkable
class Planning(Protocol):
    """An aggregator that reads the answers so far to choose the next agents (``agentroute/selection.py``).

    ``prepare`` adds what it needs to a decision (it sees the question's graph); ``plan`` returns the next
    agents ([] to stop), or None to leave the choice to the plain early-stopping waves.
    """

    def prepare(self, decision: RoutingDecision, graph: QueryGraph) -> RoutingDecision: ...

    def plan(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> list[str] | None: ...


def prepare_decision(aggregator: Aggregator, decision: RoutingDecision, graph: QueryGraph) -> RoutingDecision:
    """``aggregator.prepare(decision, graph)`` for a planning aggregator, else the decision unchanged."""
    return aggregator.prepare(decision, graph) if isinstance(aggregator, Planning) else decision


def _answered(results: Sequence[AgentResult]) -> list[AgentResult]:
    return [r for r in results if r.ok and normalize_answer(r.answer)]


class _Vote:
    """Group answers by normalised text and return the heaviest group.

    An answer that begins or ends with another, shorter answer, word for word ("upstate new york" and "new
    york", or a sentence that states a short answer first or last), agrees with it: it joins the group of
    the shorter answer, and the group answers with its shortest form, the part its agents agree on
    (``merge_contained``, on by default). Only at the start or end: a "no" inside "yes, there is no doubt"
    is not that answer.
    Ties go to the group holding the single most probable agent, then to the earlier agent in the
    decision's selection order, so the result never depends on completion order.
    """

    name = "vote"
    merge_contained = True

    def weight(self, decision: RoutingDecision, agent: str) -> float:
        raise NotImplementedError

    def _groups(self, decision: RoutingDecision, answered: Sequence[AgentResult]) -> dict[str, list[AgentResult]]:
        """Answers by group: the key is the group's shortest normalised answer."""
        by_key: dict[str, list[AgentResult]] = {}
        for r in answered:
            by_key.setdefault(normalize_answer(r.answer), []).append(r)
        if not self.merge_contained or len(by_key) < 2:
            return by_key
        own = {k: sum(self.weight(decision, r.agent) for r in rs) for k, rs in by_key.items()}
        groups: dict[str, list[AgentResult]] = {}
        for key in sorted(by_key, key=lambda k: (len(k.split()), k)):
            inside = [g for g in groups if _begins_or_ends(key, g)]
            # the heaviest shorter answer this one begins or ends with; ties to the shorter, then alphabetical
            home = min(inside, key=lambda g: (-own[g], len(g.split()), g)) if inside else key
            groups.setdefault(home, []).extend(by_key[key])
        return groups

    def settled(self, decision: RoutingDecision, results: Sequence[AgentResult], pending: Sequence[str]) -> bool:
        """True when no answer the pending agents could give would make another group win.

        A challenger is any other group plus the pending agents, or, when answers may merge, the answers
        outside the leader's own form that share a word, which a pending agent's shorter answer could gather
        (the leader's longer forms included). Those longer forms may leave the leader with it, so when answers
        may merge only the leader's own form counts for the leader. With merging off this is the plain rule:
        ahead of the runner-up by more than the pending agents weigh. A skipped agent could at most have
        shortened the winning answer to a part of it.
        """
        answered = _answered(results)
        if not answered:
            return not pending
        groups = self._groups(decision, answered)
        mass = {k: sum(self.weight(decision, r.agent) for r in rs) for k, rs in groups.items()}
        leader = max(mass, key=lambda k: mass[k])
        challenger = max((m for k, m in mass.items() if k != leader), default=0.0)
        secure = mass[leader]
        if self.merge_contained and pending:
            gather: dict[str, float] = {}
            secure = 0.0
            for r in answered:
                key = normalize_answer(r.answer)
                if key == leader:
                    secure += self.weight(decision, r.agent)
                    continue
                for word in set(key.split()):
                    gather[word] = gather.get(word, 0.0) + self.weight(decision, r.agent)
            challenger = max(challenger, *gather.values(), 0.0)
        return secure - challenger > sum(self.weight(decision, a) for a in pending) + 1e-12

    def aggregate(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer:
        answered = _answered(results)
        if not answered:
            return Answer(text="", decision=decision, results=list(results), support={})
        order = {a: i for i, a in enumerate(decision.selected)}
        mass: dict[str, float] = {}
        best: dict[str, AgentResult] = {}
        top: dict[str, AgentResult] = {}
        for key, rs in self._groups(decision, answered).items():
            mass[key] = sum(self.weight(decision, r.agent) for r in rs)
            # the group answers in its shortest form, as its best-ranked agent with that form gave it
            best[key] = min(
                (r for r in rs if normalize_answer(r.answer) == key), key=lambda r: _rank(decision, r, order)
            )
            top[key] = min(rs, key=lambda r: _rank(decision, r, order))
        winner = min(mass, key=lambda k: (-round(mass[k], 12), _rank(decision, top[k], order)))
        support = {str(best[k].answer): m for k, m in sorted(mass.items(), key=lambda kv: -kv[1])}
        return Answer(text=str(best[winner].answer), decision=decision, results=list(results), support=support)


def _begins_or_ends(long: str, short: str) -> bool:
    """Whether normalised answer ``long`` is ``short`` or begins or ends with it as whole words."""
    return long == short or long.startswith(f"{short} ") or long.endswith(f" {short}")


def _rank(decision: RoutingDecision, r: AgentResult, order: dict[str, int]) -> tuple[float, int]:
    return _rank_of(decision, r.agent, order)


def _rank_of(decision: RoutingDecision, agent: str, order: dict[str, int]) -> tuple[float, int]:
    return (-decision.probs.get(agent, 0.0), order.get(agent, len(order)))


#: reliabilities are clipped to this distance from 0 and 1 before taking log-odds
RELIABILITY_CLIP = 0.02
#: the vote weight of the least reliable candidate (the others get their log-odds above it on top)
RELIABILITY_FLOOR = 0.05


class WeightedVote(_Vote):
    """Sums each answer's weight: the router's probability for each agent that gave it, or, when the decision
    carries ``reliability`` (and ``reliability=True``), the agent's log-odds of being right, counted from
    the least reliable candidate's (which keeps ``RELIABILITY_FLOOR``).

    Why log-odds: a probability over agents says which one agent to trust most, not how far to trust a
    second agent that disagrees; for voters who err independently, weights log(p / (1 − p)) make the most
    likely answer win (Nitzan and Paroush). On MoRE's 5 folds (``bench run``, guard on), with the GNN's
    task-prior reliabilities, ``gnn`` went from 0.570 at 2.20 calls to 0.576 at 1.88 (early stopping settles
    sooner when a strong agent outweighs the rest)."""

    name = "weighted-vote"

    def __init__(self, reliability: bool = True, merge_contained: bool = True) -> None:
        self.reliability = reliability
        self.merge_contained = merge_contained

    def weight(self, decision: RoutingDecision, agent: str) -> float:
        if self.reliability and agent in decision.reliability:
            return reliability_weight(decision.reliability, agent)
        # A tiny floor keeps agents the router gave ~0 mass from being ignored entirely.
        return max(decision.probs.get(agent, 0.0), 1e-9)


def _log_odds(p: float) -> float:
    p = min(max(p, RELIABILITY_CLIP), 1 - RELIABILITY_CLIP)
    return math.log(p / (1 - p))


def reliability_weight(reliability: Mapping[str, float], agent: str) -> float:
    """The agent's log-odds of being right minus the least reliable candidate's, plus ``RELIABILITY_FLOOR``."""
    return _log_odds(reliability[agent]) - min(_log_odds(p) for p in reliability.values()) + RELIABILITY_FLOOR


class MajorityVote(_Vote):
    name = "majority"

    def __init__(self, merge_contained: bool = True) -> None:
        self.merge_contained = merge_contained

    def weight(self, decision: RoutingDecision, agent: str) -> float:
        return 1.0


class TopOne:
    name = "top-one"

    def settled(self, decision: RoutingDecision, results: Sequence[AgentResult], pending: Sequence[str]) -> bool:
        """True when an agent that answered outranks every pending agent."""
        answered = _answered(results)
        if not answered:
            return not pending
        order = {a: i for i, a in enumerate(decision.selected)}
        top = min(_rank(decision, r, order) for r in answered)
        return all(top < _rank_of(decision, a, order) for a in pending)

    def aggregate(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer:
        answered = _answered(results)
        order = {a: i for i, a in enumerate(decision.selected)}
        if not answered:
            return Answer(text="", decision=decision, results=list(results), support={})
        top = min(answered, key=lambda r: _rank(decision, r, order))
        return Answer(
            text=str(top.answer),
            decision=decision,
            results=list(results),
            support={str(top.answer): decision.probs.get(top.agent, 0.0)},
        )


_AGGREGATORS: Registry[Aggregator] = Registry("aggregator")
_AGGREGATORS.register("weighted-vote", WeightedVote)
_AGGREGATORS.register("majority", MajorityVote)
_AGGREGATORS.register("top-one", TopOne)
_AGGREGATORS.register("refine", "agentroute.refine:RefiningAggregator")  # lazy: it builds on this module
_AGGREGATORS.register("answer-aware", "agentroute.selection:AnswerAware")


def register_aggregator(
    name: str, factory: str | Callable[..., Aggregator] | None = None
) -> Callable[[Callable[..., Aggregator]], Callable[..., Aggregator]]:
    """``make_aggregator(name, **options)`` will call ``factory`` (or ``"module:factory"``); a decorator
    when ``factory`` is omitted."""
    return _AGGREGATORS.register(name, factory)


def aggregator_names() -> list[str]:
    """The registered aggregator names (built-in and ``register_aggregator``'s), sorted."""
    return _AGGREGATORS.names()


def aggregator_factory(name: str) -> Callable[..., Aggregator]:
    """What ``make_aggregator(name, ...)`` calls (imported now if registered lazily)."""
    return _AGGREGATORS.factory(name)


def make_aggregator(name: str = "weighted-vote", **options: Any) -> Aggregator:
    """The aggregator registered as ``name``, built with ``options`` (an unknown name lists the known ones)."""
    return _AGGREGATORS.make(name, **options)
