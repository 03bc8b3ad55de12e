"""Plain functions behind the CLI commands (so the CLI stays a thin shell and everything is scriptable)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agentroute.agents.loading import load_agents
from agentroute.agents.pool import AgentPool
from agentroute.aggregate import make_aggregator
from agentroute.answers import make_scorer
from agentroute.bench.datasets import read_qa
from agentroute.bench.logs import read_routing_log, score_scale_note
from agentroute.bench.resultlog import append_rows, read_rows
from agentroute.kg.builder import QueryGraphBuilder
from agentroute.kg.embed import make_embedder
from agentroute.kg.examples import make_examples
from agentroute.kg.export import export
from agentroute.kg.ingest import ingest_records
from agentroute.kg.store import GraphStore, open_store
from agentroute.kg.view import graph_view
from agentroute.llm import LLMSettings, connect_parts
from agentroute.routers.base import Router
from agentroute.routers.registry import make_router, router_info, router_names
from agentroute.suite import build_suite, builtin_agents
from agentroute.types import AgentSpec, Answer, Query, RunRecord
from agentroute.validate import checkpoint_beside, load_checkpoint_router
from agentroute.workflow import AgentRoute, as_query

Progress = Callable[[str], None]


def _quiet(msg: str) -> None:
    pass


def load_pool(agents: str | None, seed: int = 0) -> AgentPool:
    """The pool behind ``--agents``: a file or module, or the built-in suite's tool agents."""
    if agents is None:
        return build_suite(seed).agents
    return load_agents(agents)


def has_history(store: GraphStore) -> bool:
    return store.counts().get("PERFORMED", 0) > 0


def load_router(name: str, model: Path | None, seed: int = 0, device: str = "auto") -> Router:
    """A registered router by name, or (``model`` given) a checkpoint that router saved (every failure
    to load it is one ``OptionError`` line naming the file)."""
    if model is not None:
        return load_checkpoint_router(model, name, device)
    info = router_info(name)
    return make_router(name, seed=seed, **({"device": device} if info.device else {}))


def ready_router(ar: AgentRoute, name: str, model: Path | None, store: str, progress: Progress = _quiet) -> str:
    """Make ``ar.router`` ready to route and say how: a given checkpoint, the checkpoint kept beside a
    ``file:`` store (``routing.json`` -> ``routing.model.pt``), or a fit on the store's history now
    (never silently: a slow fit names the command that saves a checkpoint for next time). Returns how."""
    if model is not None:
        return f"checkpoint {model}"
    info = router_info(name)
    beside = checkpoint_beside(store)
    if info.checkpoint is not None and beside is not None and beside.is_file():
        ar.router = load_checkpoint_router(beside, name, str(getattr(ar.router, "device", "auto")), "--store")
        progress(f"using {beside} (the checkpoint beside the store)")
        return f"checkpoint {beside}"
    questions = ar.store.counts().get("Query", 0) if has_history(ar.store) else 0
    if not info.trainable or questions == 0:
        return "untrained"
    if info.checkpoint is not None:
        hint = f"`agentroute train --store {store}` saves one that ask reuses" if beside else "use a file: store"
        progress(f"no checkpoint for this store: training {name} on {questions} past questions now ({hint})")
    else:
        progress(f"fitting {name} on {questions} past questions in the store")
    ar.fit()
    return f"fitted on {questions} questions"


def bootstrap_suite(store: GraphStore, seed: int = 0, progress: Progress = _quiet) -> dict[str, int]:
    """Load the built-in suite into ``store``: its world (entities, relations) and its tool agents' scores
    on the training questions, so a learned router has history. What ``agentroute kg bootstrap`` runs;
    nothing else writes the suite into a store the user names."""
    suite = build_suite(seed)
    progress(f"profiling {len(suite.agents)} built-in agents on {len(suite.train)} questions")
    entities, relations = suite.world.load_into(store)
    with AgentRoute(suite.agents, "all", store=store) as profiler:
        runs = profiler.profile(suite.train)
    return {"entities": entities, "relations": relations, "questions": len(runs), "agents": len(suite.agents)}


def bootstrap_builtin(store: GraphStore, seed: int = 0, progress: Progress = _quiet) -> AgentPool:
    """The built-in agents, after loading the suite into ``store`` when it has no history yet."""
    if has_history(store):
        return builtin_agents(seed)
    bootstrap_suite(store, seed, progress)
    return builtin_agents(seed)


def builtin_pool(store: GraphStore, seed: int = 0, *, bootstrap: bool = False, notice: Progress = _quiet) -> AgentPool:
    """The built-in agents for answering from ``store``. ``bootstrap`` (the scratch in-memory store): an
    empty store first gets the suite's history, with a notice. Otherwise the store is never written, and
    an empty one gets a hint saying how to load the suite."""
    if has_history(store):
        return builtin_agents(seed)
    if bootstrap:
        notice("in-memory store: loading the built-in suite's history first (agentroute kg bootstrap)")
        return bootstrap_builtin(store, seed)
    notice("the store has no history; `agentroute kg bootstrap --store URL` loads the built-in suite's")
    return builtin_agents(seed)


def is_scratch(store: str) -> bool:
    """A store URL naming the throwaway in-memory store (safe to fill without being asked)."""
    return store == "memory"


def ask_one(
    question: str,
    *,
    agents: str | AgentPool | None = None,
    router: str = "knn",
    model: Path | None = None,
    store: str = "memory",
    k: int | None = None,
    seed: int = 0,
    timeout_s: float = 60.0,
    aggregate: str = "weighted-vote",
    llm: LLMSettings | None = None,
    device: str = "auto",
    progress: Progress = _quiet,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    notice: Progress = _quiet,
) -> Answer:
    """Answer one question. With the built-in agents and the in-memory store, the suite's training history
    is loaded first (``notice`` says so) so a learned router has something to learn from; a store the
    user names is only read. ``on_event`` sees the run's progress events as they happen
    (``agentroute/events.py``). Parts that call an LLM (agents, router, aggregator) are connected to
    ``llm``'s endpoint, which is checked before any question runs. Cheap checks come first: the router,
    the checkpoint and the agent file fail before the store is touched. The agent file is loaded first: it
    may register the router, store or aggregator named."""
    own_pool = agents if isinstance(agents, AgentPool) or agents is None else load_agents(agents)
    chosen = load_router(router, model, seed, device)
    aggregator = make_aggregator(aggregate)
    graph_store = open_store(store)
    try:
        pool = (
            own_pool
            if own_pool is not None
            else builtin_pool(graph_store, seed, bootstrap=is_scratch(store), notice=notice)
        )
        connect_parts([*pool, chosen, aggregator], llm)
        strangers = unknown_pool_notice(chosen, [a.name for a in pool], model) if model is not None else ""
        if strangers:
            notice(strangers)
        if model is not None and not has_history(graph_store):
            notice(
                f"warning: {'the in-memory store (no --store given)' if is_scratch(store) else 'the store ' + store} "
                f"holds no scored questions, so {model} routes without the similar "
                "past questions it learned from: pass the --store it was trained on, or load its log with "
                "`agentroute kg ingest --logs LOG --store file:PATH`"
            )
        with AgentRoute(pool, chosen, store=graph_store, aggregator=aggregator, k=k, timeout_s=timeout_s) as ar:
            ready_router(ar, router, model, store, progress)
            return ar.ask(question, on_event=on_event)
    finally:
        graph_store.close()


def unknown_pool_notice(router: Router, pool: Sequence[str], model: Path) -> str:
    """A warning when a checkpoint was trained on none of the pool's agents (every agent is then routed
    as new, by its description), else ""."""
    from agentroute.routers.coldstart import trained_agents

    trained = trained_agents(router)
    if not trained or trained & set(pool):
        return ""
    known = ", ".join(sorted(trained)[:6]) + (", …" if len(trained) > 6 else "")
    return (
        f"warning: {model} was trained on other agents ({known}); none is in this pool, so every agent is "
        "routed as new, by its description"
    )


def show_query_graph(
    question: str, *, agents: str | None = None, store: str = "memory", seed: int = 0, notice: Progress = _quiet
) -> dict[str, Any]:
    """The query graph a question gets, as plain data (what ``kg show`` prints); like ``ask_one``, only
    the in-memory store is filled with the built-in suite, a named store is only read."""
    graph_store = open_store(store)
    try:
        pool = (
            builtin_pool(graph_store, seed, bootstrap=is_scratch(store), notice=notice)
            if agents is None
            else load_agents(agents)
        )
        graph = QueryGraphBuilder(graph_store, pool.specs).build(as_query(question))
    finally:
        graph_store.close()
    return graph_view(graph)


def ingest_log(logs: Path, store: str, progress: Progress = _quiet) -> dict[str, int]:
    """Load a routing log into a store; returns the counts written."""
    records = read_routing_log(logs)
    progress(f"read {len(records)} questions from {logs}")
    if note := score_scale_note(records, logs):
        progress(note)
    first: dict[str, tuple[int, str]] = {}
    for row, r in enumerate(records, start=1):  # a store keeps one question per id: never merge two
        seen = first.setdefault(r.qid, (row, r.question))
        if seen[1] != r.question:
            raise ValueError(
                f"{logs}: questions {seen[0]} and {row} (counted without blank lines) share the qid {r.qid!r} "
                "but ask different questions"
            )
    graph_store = open_store(store)
    try:
        return ingest_records(graph_store, records)
    finally:
        graph_store.close()


def export_store(store: str, fmt: str) -> str:
    """The whole store as GraphML, JSON or Cypher text."""
    graph_store = open_store(store)
    try:
        return export(graph_store, fmt)
    finally:
        graph_store.close()


def train_gnn(
    output: Path,
    *,
    logs: Path | None = None,
    store: str | None = None,
    router: str = "gnn",
    embedder: str = "hashing",
    device: str = "auto",
    epochs: int = 40,
    seed: int = 0,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Train a GNN router on a routing log (or a store's history) and save its checkpoint."""
    start = time.perf_counter()
    gnn, records = fit_saving_router(logs, store, router, embedder, device, epochs, seed, None, progress)
    gnn.save(output)  # type: ignore[attr-defined]
    return {
        "checkpoint": str(output),
        "questions": len(records),
        "agents": len({a for r in records for a in r.agents}),
        "device": str(gnn.device),  # type: ignore[attr-defined]
        "seconds": round(time.perf_counter() - start, 2),
    }


def fit_saving_router(
    logs: Path | None,
    store: str | None,
    router: str,
    embedder: str,
    device: str,
    epochs: int,
    seed: int,
    prices: dict[str, dict[str, float]] | None = None,
    progress: Progress = _quiet,
    guard_folds: int = 1,
) -> tuple[Router, list[RunRecord]]:
    """A router that saves checkpoints (the guarded GNN), trained on a routing log or a store's history,
    and the rows it learned from (costs filled in from ``prices`` where the log has none). ``guard_folds``
    > 1 cross-fits the guard's held-out predictions (``GuardConfig.folds``)."""
    from agentroute.bench.costs import with_costs

    info = router_info(router)
    if info.checkpoint is None:
        savers = [n for n in router_names() if router_info(n).checkpoint is not None]
        raise ValueError(f"--router {router!r} does not save checkpoints: train supports {', '.join(savers)}")
    known: dict[str, AgentSpec] = {}
    if logs is not None:
        records = read_routing_log(logs)
        if note := score_scale_note(records, logs):
            progress(note)
    else:
        graph_store = open_store(store or "memory")
        try:
            records = list(graph_store.history())
            known = stored_specs(graph_store)
        finally:
            graph_store.close()
    records = with_costs([r for r in records if r.scores()], prices)
    if not records:
        raise ValueError(f"no scored questions to train on in {logs or store}")
    agents = sorted({a for r in records for a in r.agents})
    if len(agents) == 1:
        progress(f"warning: {logs or store} scores one agent ({agents[0]}): the router has nothing to choose")
    emb = make_embedder(embedder)
    specs = [known.get(a) or AgentSpec(name=a) for a in agents]
    builder = QueryGraphBuilder(open_store("memory"), specs, embedder=emb)
    builder.set_history(records)
    progress(f"building {len(records)} training graphs over {len(agents)} agent{'s' if len(agents) != 1 else ''}")
    examples = make_examples(builder, records, progress)
    guard = {"folds": guard_folds} if guard_folds > 1 else True
    gnn = make_router(router, seed=seed, device=device, epochs=epochs, embedder=emb, guard=guard)
    progress(f"training {router} on {gnn.device}")  # type: ignore[attr-defined]
    gnn.fit(examples, progress=progress)  # type: ignore[call-arg]
    return gnn, records


def calibrate_budget(
    logs: Path,
    output: Path,
    *,
    target_cost: float | None = None,
    target_calls: float | None = None,
    router: str = "gnn",
    embedder: str = "hashing",
    device: str = "auto",
    epochs: int = 40,
    seed: int = 0,
    prices: dict[str, dict[str, float]] | None = None,
    progress: Progress = _quiet,
    folds: int = 1,
) -> dict[str, Any]:
    """Train the guarded GNN on ``logs``, pick the cost weight (``target_cost``, USD per question) or the
    mass threshold (``target_calls``) on its held-out questions, and save the checkpoint with it.

    ``folds`` > 1 cross-fits: every training question is held out once (``folds`` extra trainings). On
    RouterArena's held-out folds that helped kNN (14 -> 19 of 20 targets within 10%) but not the GNN (17 -> 12:
    five probes' probability scales differ more than one probe's differs from the final model's), so the
    default stays one slice (``benchmarks/calibrate_folds.py --guard-folds``)."""
    from agentroute.bench.costs import price_gap_note
    from agentroute.routers.calibration import calibrate, check_budget
    from agentroute.routers.fallback import GuardedRouter

    check_budget(target_cost, target_calls)
    rows = read_routing_log(logs)
    distinct = len({r.question for r in rows if r.scores()})
    if folds > distinct:  # before any of the ``folds`` trainings
        raise ValueError(f"--folds {folds}: more folds than the log's {distinct} distinct scored questions")
    if target_cost is not None and (gap := price_gap_note(rows, prices)):
        raise ValueError(gap if prices else f"{logs}: {gap}: give --prices FILE with their prices")
    gnn, _ = fit_saving_router(logs, None, router, embedder, device, epochs, seed, prices, progress, folds)
    if not isinstance(gnn, GuardedRouter):
        raise ValueError("calibrate needs the guarded router (it calibrates on the guard's held-out questions)")
    result = calibrate(gnn, target_cost=target_cost, target_calls=target_calls)
    for note in result.notes():
        progress(f"warning: {note}")
    gnn.save(output)
    return {
        "checkpoint": str(output),
        "setting": result.setting,
        "value": result.value,
        "held_out_questions": result.n,
        "held_out_cost_per_question": result.cost,
        "held_out_agents_per_question": result.calls,
        "held_out_accuracy": result.accuracy,
        "target_met": result.met,
    }


def spec_rows(specs: list[AgentSpec]) -> list[dict[str, Any]]:
    """Agent nodes carrying what routers read (description, skills), so a store remembers its pool."""
    return [{"id": s.name, "description": s.description, "skills": list(s.skills)} for s in specs]


def stored_specs(store: GraphStore) -> dict[str, AgentSpec]:
    """Agent specs kept on a store's Agent nodes by ``profile --store`` (bare names when absent)."""
    specs: dict[str, AgentSpec] = {}
    for node in store.nodes("Agent"):
        skills = node.get("skills") or []
        specs[node["id"]] = AgentSpec(
            name=node["id"], description=str(node.get("description") or ""), skills=[str(x) for x in skills]
        )
    return specs


def finished_rows(path: Path) -> list[RunRecord]:
    """The rows already in a profile output file (a torn last line of a killed run is cut off)."""
    return list(read_rows(path, RunRecord.model_validate_json))


def check_resumable(output: Path, done: Sequence[RunRecord], queries: Sequence[Query], agents: Sequence[str]) -> None:
    """A resumed profile must continue the same run: the same questions file (all of it, whatever
    ``--limit`` says) and the same pool."""
    ids = {q.id for q in queries}
    strangers = [r.qid for r in done if r.qid not in ids]
    if strangers:
        raise ValueError(
            f"--resume: {output} holds questions that are not in --data (e.g. {strangers[0]!r}): "
            "it was profiled on another QA file; choose another --out"
        )
    ran = {a for r in done for a in r.agents}
    if done and ran != set(agents):
        raise ValueError(
            f"--resume: {output} was profiled with agents {', '.join(sorted(ran))}, the pool has "
            f"{', '.join(sorted(agents))}; profile a changed pool into another --out"
        )


def profile_agents(
    data: Path,
    output: Path,
    *,
    agents: str | None = None,
    store: str | None = None,
    resume: bool = False,
    limit: int | None = None,
    timeout_s: float = 60.0,
    batch: int = 32,
    concurrency: int = 8,
    metric: str = "em",
    llm: LLMSettings | None = None,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Run every agent on every question of a QA file, score the answers against gold (``metric``: em, f1,
    numeric, choice or auto), and append one routing-log row per question to ``output`` (a file, or
    ``results.jsonl`` in an existing folder) as it goes, one flushed batch at a time (``resume`` skips
    finished questions). LLM agents are connected to ``llm``'s endpoint first."""
    scorer = make_scorer(metric)
    queries = read_qa(data, limit=limit)
    if output.is_dir():  # --out DIR: the routing log is DIR/results.jsonl
        output = output / "results.jsonl"
    if output.exists() and not resume:
        raise ValueError(f"{output} exists: pass --resume to continue it, or choose another --out")
    pool = load_pool(agents)
    finished = finished_rows(output) if resume and output.exists() else []
    check_resumable(output, finished, read_qa(data) if limit is not None else queries, pool.names)
    done = {r.qid for r in finished}
    todo = [q for q in queries if q.id not in done]
    connect_parts(list(pool), llm)
    graph_store = open_store(store or "memory")
    try:
        if store is not None:
            graph_store.upsert_nodes("Agent", spec_rows(pool.specs))
        output.parent.mkdir(parents=True, exist_ok=True)
        batch = max(batch, concurrency)
        failed: Counter[str] = Counter()
        with AgentRoute(pool, "all", store=graph_store, timeout_s=timeout_s) as ar:
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                runs = ar.profile(chunk, scorer=scorer, concurrency=concurrency, record=store is not None)
                append_rows(output, (run.model_dump_json(exclude_none=True) for run in runs))
                failed.update(a for run in runs for a, cell in run.agents.items() if cell.error)
                progress(f"profiled {len(done) + start + len(runs)}/{len(queries)} questions")
    finally:
        graph_store.close()
    if failed:
        counts = ", ".join(f"{a} {n}/{len(todo)}" for a, n in sorted(failed.items()))
        progress(f"warning: failed calls (scored 0, the error is in the row's `error` field): {counts}")
    ungraded = sum(not q.gold for q in todo)
    if ungraded:
        has = "has" if ungraded == 1 else "have"
        progress(
            f"warning: {ungraded} of {len(todo)} questions {has} no gold answer: their rows record answers but no "
            "scores, so no router can learn from them"
        )
    return {
        "questions": len(queries),
        "skipped": len(queries) - len(todo),
        "profiled": len(todo),
        "agents": len(pool),
        "failed_calls": sum(failed.values()),
        "out": str(output),
    }


def describe_pool(
    samples: Path,
    *,
    agents: str | None = None,
    output: Path | None = None,
    per_agent: int = 8,
    llm: LLMSettings | None = None,
    progress: Progress = _quiet,
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Descriptions for the agents of ``agents`` (default: the routing log's) written by the LLM from the
    questions of ``samples`` each answered well; written to ``output`` as an ``--agent-info`` file when given.
    Returns (name -> entry, name -> why a description was kept as it was)."""
    from agentroute.agents.descriptions import agent_info, agents_of, describe_agents

    records = read_routing_log(samples)
    given = {s.name: s for s in load_pool(agents).specs} if agents is not None else {}
    specs = list(given.values()) if given else agents_of(records)
    missing = [s.name for s in specs if not any(s.name in r.agents for r in records)]
    if given and len(missing) == len(specs):
        raise ValueError(f"--samples {samples}: none of the pool's agents ({', '.join(missing)}) is in the log")
    model = (llm or LLMSettings()).chat_model()
    model.check()  # an unreachable endpoint or a refused key: one clear error before any work
    described, kept = describe_agents(records, specs, model, samples=per_agent, progress=progress)
    failed = [name for name, why in kept.items() if why.startswith("model call failed")]
    if failed and all(spec.name in kept for spec in specs):  # no call worked: say so instead of writing blanks
        raise ValueError(f"every description call failed, nothing written ({failed[0]}: {kept[failed[0]]})")
    info = agent_info(described)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return info, kept
