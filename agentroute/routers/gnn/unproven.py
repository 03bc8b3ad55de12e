"""Unproven agents: the GNN's estimate for an agent with no history at all is not trusted.

Why: the GNN learned from agents that all had history, so what it says of an agent that was neither
trained on nor scored on any of the question's similar past questions is an extrapolation. On MoRE it sent
such an agent (an expert left out of training, added back with only its name) up to 71% of the questions
and lost up to 0.052 of accuracy (``benchmarks/new_agent.py``). Held at the probability of the least
likely proven agent, it is never preferred to one, yet not ruled out: a set that needs more agents may
still call it. Held at the proven agents' *mean* instead, it was called second or third for about half of
MoRE's questions by ``gnn`` and its sets scored up to 0.015 less. Once it has history it is judged by it,
and ``AgentRoute``'s cold start routes it by its description meanwhile (``routers/coldstart.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from agentroute.types import QueryGraph


def unproven_agents(graph: QueryGraph, trained: Collection[str]) -> list[str]:
    """The graph's agents that are not in ``trained`` and have no score on any of its similar past questions."""
    new = [a for a in graph.agent_names if a not in trained]
    if not new:
        return []
    scored = {a for past in graph.similar for a, s in past.scores.items() if s is not None}
    return [a for a in new if a not in scored]


def hold_at_weakest(probs: Mapping[str, float], held: Sequence[str]) -> dict[str, float]:
    """``probs`` with every ``held`` agent set to the lowest probability among the others, renormalised;
    unchanged when no agent is held or every agent is (nothing proven to compare with)."""
    proven = [a for a in probs if a not in held]
    if not held or not proven:
        return dict(probs)
    weakest = min(probs[a] for a in proven)
    raw = {a: weakest if a in held else p for a, p in probs.items()}
    total = sum(raw.values())
    return {a: v / total for a, v in raw.items()}
