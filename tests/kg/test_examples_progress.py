from __future__ import annotations

from agentroute.kg import examples
from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.store import open_store
from agentroute.types import AgentRecord, AgentSpec, RunRecord


def records(n: int) -> list[RunRecord]:
    return [
        RunRecord(qid=f"q{i}", question=f"What is {i} plus {i}?", agents={"a": AgentRecord(score=1.0)})
        for i in range(n)
    ]


def test_graph_building_reports_progress_per_block_and_builds_the_same_graphs(monkeypatch) -> None:
    rows = records(5)
    builder = QueryGraphBuilder(open_store("memory"), [AgentSpec(name="a")])
    builder.set_history(rows)
    quiet = examples.build_graphs(builder, rows)
    monkeypatch.setattr(examples, "PROGRESS_BLOCK", 2)
    heard: list[str] = []
    loud = examples.make_examples(builder, rows, heard.append)
    assert heard == ["query graphs 2/5", "query graphs 4/5", "query graphs 5/5"]
    assert [ex.graph.query.id for ex in loud] == [g.query.id for g in quiet]
    assert [[p.id for p in ex.graph.similar] for ex in loud] == [[p.id for p in g.similar] for g in quiet]
