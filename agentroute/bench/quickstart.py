"""``agentroute quickstart``: the whole pipeline on the built-in suite, offline, in a couple of minutes.

Build the knowledge graph (the suite's world), run every tool agent on the training questions and record
how each scored, fit every router on that history, then answer every test question through the real
LangGraph pipeline once per router, and report accuracy against agent calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from agentroute.bench.metrics import bootstrap_ci, gap_closed
from agentroute.bench.replay import compare, fit_router
from agentroute.bench.report import BenchReport, RouterResult
from agentroute.bench.resultlog import ResultsLog
from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.examples import make_examples
from agentroute.kg.store import GraphStore
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.normalize import exact_match
from agentroute.routers.base import Router
from agentroute.routers.registry import DEFAULT_ROUTERS, make_router, router_info
from agentroute.suite import Suite, build_suite
from agentroute.types import RunRecord, TrainExample
from agentroute.workflow import AgentRoute


def _mean(xs: Sequence[float]) -> float:
    return float(sum(xs) / len(xs)) if xs else 0.0


def _per_agent(runs: Sequence[RunRecord], agents: Sequence[str]) -> dict[str, list[float]]:
    return {a: [r.agents[a].score or 0.0 for r in runs] for a in agents}


def run_quickstart(
    seed: int = 0,
    routers: Sequence[str] = DEFAULT_ROUTERS,
    n_train: int = 600,
    n_test: int = 300,
    progress: Callable[[str], None] | None = None,
    store: GraphStore | None = None,
    results_log: ResultsLog | None = None,
) -> BenchReport:
    """Run the quickstart; ``store`` (default: a fresh in-memory store) receives the world and the runs.

    With ``results_log``, one row per (router, test question) is appended as answers come in, and rows
    already there (a resumed run) are reused instead of being asked again."""
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    suite = build_suite(seed, n_train=n_train, n_test=n_test)
    store = store if store is not None else NetworkXStore()
    n_entities, n_relations = suite.world.load_into(store)
    say(f"knowledge graph: {n_entities} entities, {n_relations} relations; {len(suite.agents)} agents")

    with AgentRoute(suite.agents, "all", store=store) as profiler:
        train_runs = profiler.profile(suite.train, concurrency=32)
        test_runs = profiler.profile(suite.test, concurrency=32, record=False)
    names = suite.agents.names
    train_scores, test_scores = _per_agent(train_runs, names), _per_agent(test_runs, names)
    best_agent = max(names, key=lambda a: (_mean(train_scores[a]), a))
    best_single = _mean(test_scores[best_agent])
    oracle = _mean([max(r.scores().values(), default=0.0) for r in test_runs])
    say(f"profiled {len(names)} agents on {len(train_runs)} train / {len(test_runs)} test questions")

    builder = QueryGraphBuilder(store, suite.agents.specs)
    builder.set_history(train_runs)
    examples = make_examples(builder, train_runs)
    oracle_scores = {r.qid: r.scores() for r in test_runs}

    results: list[RouterResult] = []
    choice: dict[str, dict[str, float]] = {}
    fitted: dict[str, Router] = {}
    for name in routers:
        rows = _router_rows(name, suite, store, builder, examples, oracle_scores, seed, fitted, results_log)
        scores = [float(r["score"]) for r in rows]
        acc = _mean(scores)
        low, high = bootstrap_ci(scores, seed=seed)
        counts: dict[str, float] = {a: 0.0 for a in names}
        for r in rows:  # the agents actually called (early stopping may skip some of those selected)
            for a in r["called"]:
                counts[a] += 1.0 / len(rows)
        choice[name] = counts
        results.append(
            RouterResult(
                router=name,
                accuracy=acc,
                ci_low=low,
                ci_high=high,
                calls_per_query=_mean([len(r["called"]) for r in rows]),
                gap_closed=gap_closed(acc, best_single, oracle),
                seconds=sum(float(r["seconds"]) for r in rows),
                scores=scores,
            )
        )
        say(f"{name:<12} accuracy {acc:.3f}  calls/query {results[-1].calls_per_query:.2f}")

    compare(results, test_scores[best_agent], [n for n in routers if router_info(n).baseline], seed)
    say(f"quickstart finished in {time.perf_counter() - t0:.1f} s")
    return BenchReport(
        title="agentroute quickstart (built-in offline suite)",
        n=len(suite.test),
        folds=1,
        best_single=best_single,
        best_single_agent=best_agent,
        oracle=oracle,
        embedder=str(builder.embedder.config().get("name", "hashing")),
        seed=seed,
        results=results,
        agent_choice=choice,
        agents=names,
        hindsight_agent=max(names, key=lambda a: (_mean(test_scores[a]), a)),
        hindsight_best=max(_mean(test_scores[a]) for a in names),
        qids=[q.id for q in suite.test],
    )


def _router_rows(
    name: str,
    suite: Suite,
    store: GraphStore,
    builder: QueryGraphBuilder,
    examples: list[TrainExample],
    oracle_scores: dict[str, dict[str, float]],
    seed: int,
    fitted: dict[str, Router],
    results_log: ResultsLog | None,
    batch: int = 32,
) -> list[dict[str, Any]]:
    """One row per test question for router ``name``: answer, score, agents called, seconds. Questions
    already in ``results_log`` are not asked again; the router is fitted only if some are missing."""
    done = dict(results_log.done) if results_log is not None else {}
    todo = [q for q in suite.test if (name, q.id) not in done]
    if todo:
        start = time.perf_counter()
        opts = {"scores": oracle_scores} if router_info(name).reads_scores else {}
        router = fit_router(make_router(name, seed=seed, **opts), examples, fitted)
        # fallback=0: the figures are each router's own choices (an agent that finds no answer is not
        # followed by the router's next choice, which would make every router call more than it chose)
        with AgentRoute(suite.agents, router, store=store, builder=builder, fallback=0) as ar:
            for i in range(0, len(todo), batch):
                chunk = todo[i : i + batch]
                answers = ar.ask_many(chunk, concurrency=16)
                share = (time.perf_counter() - start) / len(chunk)
                start = time.perf_counter()
                rows = [
                    {
                        "router": name,
                        "qid": q.id,
                        "answer": a.text,
                        "error": a.error,
                        "score": exact_match(a.text, q.gold or []),
                        "called": [r.agent for r in a.results],
                        "seconds": share,
                    }
                    for q, a in zip(chunk, answers)
                ]
                if results_log is not None:
                    results_log.append(rows)
                done.update(((name, r["qid"]), r) for r in rows)
    return [done[name, q.id] for q in suite.test]


def quickstart_summary(report: BenchReport) -> dict[str, object]:
    """The ``--json`` object of ``agentroute quickstart``."""
    return {
        "n_test": report.n,
        "oracle": report.oracle,
        "best_single": report.best_single,
        "results": [
            {"router": r.router, "accuracy": r.accuracy, "calls_per_query": r.calls_per_query} for r in report.results
        ],
    }
