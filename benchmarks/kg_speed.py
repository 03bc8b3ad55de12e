"""Knowledge-graph speed: entity extraction, hashing embeddings, query-graph building.

    python benchmarks/kg_speed.py            # MoRE questions when ../shared/data is present, else generated ones

Prints one table. Targets (2 CPU cores): extraction >= 20,000 questions/s, embedding 5,000 questions < 1 s,
``build`` <= 1 ms per question and ``build_many`` >= 5,000 questions/s with 4,000 history rows.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agentroute.kg import HashingEmbedder, HeuristicExtractor, NetworkXStore, QueryGraphBuilder
from agentroute.types import AgentRecord, AgentSpec, Query, RunRecord

MORE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "routing_logs" / "more_reasoning_experts"


def load_questions() -> tuple[list[RunRecord], str]:
    path = MORE / "unified_test.jsonl"
    if path.exists():
        with path.open() as f:
            return [RunRecord.model_validate_json(line) for line in f if line.strip()], "MoRE (4,790 questions)"
    topics = ["river", "capital", "novel", "apples", "planet", "war", "song", "movie"]
    recs = [
        RunRecord(
            qid=f"g{i}",
            question=f"What about the {topics[i % 8]} {i % 53} in Region {i % 31}, asked in {1900 + i % 120}?",
            agents={a: AgentRecord(score=float((i + j) % 3 == 0)) for j, a in enumerate("abcd")},
        )
        for i in range(4790)
    ]
    return recs, "generated (4,790 questions)"


def main() -> None:
    records, source = load_questions()
    texts = [r.question for r in records]
    rows: list[tuple[str, str, str]] = []

    ext = HeuristicExtractor()
    start = time.perf_counter()
    for t in texts:
        ext.extract(t)
    rows.append(("entity extraction", f"{len(texts) / (time.perf_counter() - start):,.0f} questions/s", ">= 20,000"))

    start = time.perf_counter()
    HashingEmbedder().embed(texts[:5000])
    rows.append(("hashing embedding, 5,000 questions (cold)", f"{time.perf_counter() - start:.3f} s", "< 1 s"))

    agents = sorted({a for r in records for a in r.agents})
    builder = QueryGraphBuilder(NetworkXStore(), [AgentSpec(name=a) for a in agents])
    builder.set_history(records[:4000])
    gc.collect()
    gc.freeze()
    queries = [Query(id=r.qid, text=r.question) for r in records[4000:]] * 3
    builder.build_many(queries[:50])
    start = time.perf_counter()
    builder.build_many(queries)
    rows.append(
        (
            "build_many, 4,000 history rows",
            f"{len(queries) / (time.perf_counter() - start):,.0f} questions/s",
            ">= 5,000",
        )
    )
    times = []
    for q in queries[:500]:
        t0 = time.perf_counter()
        builder.build(q)
        times.append(time.perf_counter() - t0)
    rows.append(("build, one question (p50)", f"{statistics.median(times) * 1e3:.2f} ms", "<= 1 ms"))

    table = Table("measure", "result", "target", title=f"knowledge-graph speed on {source}")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
