"""Query graphs and training examples from recorded runs (routing-log rows or profiled questions).

A row's candidates are the builder's agents that have a score on that row: an agent missing from the row
(or with a null score) did not run, so a router must not be offered it and cannot be scored on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from agentroute.types import SERVED_DATASET, AgentSpec, Query, QueryGraph, RunRecord, TrainExample


class GraphBuilder(Protocol):
    """What this module needs of ``kg.builder.QueryGraphBuilder``."""

    @property
    def agents(self) -> Sequence[AgentSpec]: ...

    def with_agents(self, agents: Sequence[AgentSpec]) -> GraphBuilder: ...

    def build_many(self, queries: Sequence[Query]) -> list[QueryGraph]: ...


def as_query(record: RunRecord) -> Query:
    """What a router may see of a row: its id and question (no gold, no dataset, no scores)."""
    return Query(id=record.qid, text=record.question)


def candidates(record: RunRecord, agents: Sequence[AgentSpec]) -> list[AgentSpec]:
    """The agents (in the builder's order) that ran and were scored on this row."""
    scored = record.scores()
    return [a for a in agents if a.name in scored]


#: Rows per ``build_many`` call when progress is reported (large logs take minutes with a neural embedder).
PROGRESS_BLOCK = 1024


def build_graphs(
    builder: GraphBuilder, records: Sequence[RunRecord], progress: Callable[[str], None] | None = None
) -> list[QueryGraph]:
    """One graph per row, each with only that row's candidates as agents.

    Rows are grouped by candidate set so each group is one batched ``build_many`` call (logs where every
    agent ran on every row are a single group). The builder's history is used as set by the caller; the
    builder never shows a query a past query with its own id. ``progress`` hears about every block of
    ``PROGRESS_BLOCK`` rows when there is more than one.
    """
    agents: list[AgentSpec] = list(builder.agents)
    full = tuple(a.name for a in agents)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault(tuple(a.name for a in candidates(r, agents)), []).append(i)
    graphs: list[QueryGraph | None] = [None] * len(records)
    done = 0
    for names, rows in groups.items():
        if not names:
            raise ValueError(f"row {records[rows[0]].qid!r} has no scored agent among {', '.join(full)}")
        sub = builder if names == full else builder.with_agents([a for a in agents if a.name in names])
        step = PROGRESS_BLOCK if progress is not None else max(1, len(rows))
        for start in range(0, len(rows), step):
            block = rows[start : start + step]
            for i, g in zip(block, sub.build_many([as_query(records[i]) for i in block])):
                graphs[i] = g
            done += len(block)
            if progress is not None and len(records) > PROGRESS_BLOCK:
                progress(f"query graphs {done}/{len(records)}")
    return graphs  # type: ignore[return-value]


def make_examples(
    builder: GraphBuilder, records: Sequence[RunRecord], progress: Callable[[str], None] | None = None
) -> list[TrainExample]:
    """Training examples for ``records``: graphs from the builder's history (each excluding its own row)
    with the row's recorded scores and costs for the candidate agents."""
    graphs = build_graphs(builder, records, progress)
    out: list[TrainExample] = []
    for g, r in zip(graphs, records):
        names = set(g.agent_names)
        scores = {a: s for a, s in r.scores().items() if a in names}
        costs = {a: c for a, c in r.costs().items() if a in names}
        task = r.dataset if r.dataset != SERVED_DATASET else None  # a source, not a task
        out.append(TrainExample(graph=g, scores=scores, costs=costs, task=task))
    return out
