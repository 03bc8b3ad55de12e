"""The replay benchmark: train and evaluate routers on a routing log without calling any agent.

Every router sees the same folds and the same graphs. Per fold, the graph store holds only the training
fold's rows, so a test question's own outcomes never reach a router; rows are re-identified (``q000123``)
and stripped to question, task and per-agent outcomes first, so neither the gold answers nor
source-specific extras (e.g. another router's confidence) can leak through ids, text or the store. A
training row's task (its ``dataset``) reaches routers only as a training label (``TrainExample.task``);
test questions are routed on their text alone.
An agent missing on a row (or with a null score) did not run: it is not a candidate on that row.
Answers are replayed from the recorded predictions, aggregated, and scored with ``answer_score``. The
default aggregator is ``answer-aware`` (``agentroute/selection.py``): per router and fold it learns, on the
guard's held-out training questions, whether reading the answers beats the plain vote, and is the weighted
vote wherever it does not (or the log has no predictions).
"""

from __future__ import annotations

import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from agentroute.aggregate import Aggregator, make_aggregator, prepare_decision
from agentroute.bench.costs import price_gap_note, with_costs
from agentroute.bench.curves import sweep_report
from agentroute.bench.embed_once import PrecomputedEmbedder, embed_in_processes, texts_to_embed
from agentroute.bench.fold_pool import run_in_processes
from agentroute.bench.logs import drop_overlap, question_key, score_scale_note
from agentroute.bench.metrics import (
    bootstrap_ci,
    gap_closed,
    mean_cost,
    paired_difference,
)
from agentroute.bench.recorded import replay_question
from agentroute.bench.report import BenchReport, Paired, RouterResult
from agentroute.bench.resultlog import ResultsLog
from agentroute.kg.embed import Embedder, make_embedder
from agentroute.kg.examples import PROGRESS_BLOCK, build_graphs, make_examples
from agentroute.llm import LLMConfigError, LLMSettings, connect_parts, needs_llm
from agentroute.routers.base import Router, SharesTraining
from agentroute.routers.fallback import GuardedRouter, GuardState
from agentroute.routers.registry import (
    DEFAULT_ROUTERS,
    RouterInfo,
    make_router,
    register_router,
    router_info,
    router_names,
)
from agentroute.selection import AnswerAware, fit_for
from agentroute.types import (
    AgentRecord,
    AgentSpec,
    QueryGraph,
    RoutingDecision,
    RunRecord,
    TrainExample,
)


@dataclass
class Fold:
    """One train/test split with the graphs every router shares."""

    train: list[RunRecord]
    test: list[RunRecord]
    examples: list[TrainExample]
    graphs: list[QueryGraph]


def routing_view(record: RunRecord, qid: str) -> RunRecord:
    """The row as the benchmark uses it: a neutral id, the question, its task (``dataset``: a training label
    only, routers route on the question text) and each scored agent's outcome."""
    cells = {
        a: AgentRecord(score=c.score, pred=c.pred, cost_usd=c.cost_usd, latency_s=c.latency_s, steps=c.steps)
        for a, c in record.agents.items()
        if c.score is not None
    }
    return RunRecord(qid=qid, dataset=record.dataset, question=record.question, agents=cells)


def make_folds(questions: Sequence[str], folds: int, seed: int = 0) -> list[int]:
    """Fold index per row: a seeded shuffle of distinct questions dealt round-robin, so rows with the same
    question text always share a fold (a duplicate can never be its own neighbour)."""
    groups: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        groups.setdefault(question_key(q), []).append(i)
    if folds < 2 or folds > len(groups):
        raise ValueError(f"folds must be between 2 and the number of distinct questions ({len(groups)}), got {folds}")
    order = np.random.default_rng(seed).permutation(len(groups))
    keys = list(groups)
    fold_of = [0] * len(questions)
    for pos, g in enumerate(order):
        for i in groups[keys[g]]:
            fold_of[i] = pos % folds
    return fold_of


def agent_order(records: Sequence[RunRecord]) -> list[str]:
    """Agents in order of first appearance."""
    seen: dict[str, None] = {}
    for r in records:
        for a in r.agents:
            seen.setdefault(a, None)
    return list(seen)


def build_fold(
    train: Sequence[RunRecord],
    test: Sequence[RunRecord],
    agents: Sequence[AgentSpec],
    embedder: Embedder,
    builder_options: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Fold:
    """A fresh in-memory store whose history is the training fold only; examples and test graphs."""
    from agentroute.kg.builder import QueryGraphBuilder
    from agentroute.kg.stores.networkx_store import NetworkXStore

    builder = QueryGraphBuilder(NetworkXStore(), list(agents), embedder=embedder, **dict(builder_options or {}))
    if progress is not None and len(train) > PROGRESS_BLOCK:
        progress(f"embedding {len(train)} past questions")
    builder.set_history(list(train))
    examples = make_examples(builder, train, progress)
    graphs = build_graphs(builder, test, progress)
    return Fold(list(train), list(test), examples, graphs)


def fit_router(router: Router, examples: Sequence[TrainExample], fitted: dict[str, Any]) -> Router:
    """``router.fit(examples)``, unless a router trained identically on the same examples is in ``fitted``
    (routers implementing ``SharesTraining``, e.g. ``gnn`` and ``gnn-top1``): then it shares that training."""
    sharing = router if isinstance(router, SharesTraining) else None
    key = sharing.training_key() if sharing is not None else None
    if sharing is not None and key is not None and key in fitted:
        return sharing.share_training(fitted[key])
    router.fit(examples)
    if key is not None:
        fitted[key] = router
    return router


def _best_single(train: Sequence[RunRecord], test: Sequence[RunRecord]) -> tuple[list[float], str]:
    """Per test row, the score of the training-best agent among the row's candidates; and that agent."""
    sums: defaultdict[str, float] = defaultdict(float)
    counts: Counter[str] = Counter()
    for r in train:
        for a, s in r.scores().items():
            sums[a] += s
            counts[a] += 1
    means = {a: sums[a] / counts[a] for a in counts}
    ranked = sorted(means, key=lambda a: (-means[a], a))
    out = []
    for r in test:
        scores = r.scores()
        pick = next((a for a in ranked if a in scores), None)
        out.append(scores[pick] if pick is not None else 0.0)
    return out, ranked[0] if ranked else ""


def _check_routers(routers: Sequence[str]) -> None:
    if isinstance(routers, str):
        raise TypeError(f"routers: expected a list of router names, e.g. [{routers!r}], got the string {routers!r}")
    known = set(router_names())
    unknown = [r for r in routers if r not in known]
    if unknown:
        raise ValueError(f"unknown router(s) {', '.join(unknown)}: expected some of {', '.join(sorted(known))}")


@dataclass
class _Tally:
    """One router's per-question outcomes, accumulated over folds."""

    scores: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    costs: list[float | None] = field(default_factory=list)
    chosen: Counter[str] = field(default_factory=Counter)
    fold_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0
    guard: list[GuardState] = field(default_factory=list)  # the fitted guard's state in each fold
    decisions: list[RoutingDecision] = field(default_factory=list)  # kept for ``sweep``
    hits: list[bool] = field(default_factory=list)  # per question some agent got right: a best one called

    def result(self, router: str, best_single: float, oracle: float, seed: int) -> RouterResult:
        accuracy = float(np.mean(self.scores)) if self.scores else 0.0
        lo, hi = bootstrap_ci(self.scores, seed=seed)
        return RouterResult(
            router=router,
            accuracy=accuracy,
            ci_low=lo,
            ci_high=hi,
            calls_per_query=float(np.mean(self.calls)) if self.calls else 0.0,
            cost_per_query=mean_cost(self.costs),
            gap_closed=gap_closed(accuracy, best_single, oracle),
            seconds=self.seconds,
            fold_accuracy=self.fold_accuracy,
            scores=self.scores,
            guard=guard_summary(self.guard),
            set_hit=float(np.mean(self.hits)) if self.hits else None,
        )


def guard_summary(states: Sequence[GuardState]) -> str | None:
    """One line on what the do-no-harm guard decided in each fold (None for unguarded routers)."""
    if not states:
        return None
    fell = sum(s.fallback for s in states)
    parts = []
    for s in states:
        if s.gain is None:
            parts.append("off" if not s.fallback else "fallback")
            continue
        verdict = "fallback" if s.fallback else f"margin {s.delta:g}"
        parts.append(f"{verdict} (gain {s.gain:+.3f} vs needed {s.needed:.3f})")
    head = f"fallback to best single in {fell}/{len(states)} fold(s)" if fell else "router kept in every fold"
    return f"{head}: " + "; ".join(parts)


def compare(results: Sequence[RouterResult], best_scores: Sequence[float], baselines: Sequence[str], seed: int) -> None:
    """Fill each result's paired comparisons with best single and with the most accurate baseline."""
    if not best_scores:
        return
    for r in results:
        if len(r.scores) != len(best_scores):
            continue
        r.vs_best_single = Paired(against="best single", **_paired(r.scores, best_scores, seed))
        others = [o for o in results if o.router in baselines and o.router != r.router]
        if others:
            best = max(others, key=lambda o: (o.accuracy, o.router))
            r.vs_best_baseline = Paired(against=best.router, **_paired(r.scores, best.scores, seed))


def _paired(a: Sequence[float], b: Sequence[float], seed: int) -> dict[str, Any]:
    d = paired_difference(a, b, seed=seed)
    return {**d, "wins": int(d["wins"] or 0), "losses": int(d["losses"] or 0)}


def _split(
    records: Sequence[RunRecord], test_records: Sequence[RunRecord] | None, folds: int, seed: int
) -> tuple[list[RunRecord], list[int], int, int]:
    """Usable rows (train first), fold index per row (-1 = always train), skipped rows, dropped test rows."""
    rows = [r for r in records if r.scores()]
    skipped = len(records) - len(rows)
    if not rows:
        raise ValueError("the log has no rows" if not records else f"none of the log's {len(records)} rows has a score")
    if test_records is None:
        return rows, make_folds([r.question for r in rows], folds, seed), skipped, 0
    kept, dropped = drop_overlap(test_records, records)
    test = [r for r in kept if r.scores()]
    if not test:
        unscored = len(kept)
        parts = [f"{dropped} also in the training log"] if dropped else []
        parts += [f"{unscored} without a scored agent"] if unscored else []
        raise ValueError(
            f"no test questions left of {len(test_records)}: {', '.join(parts) or 'the test log is empty'}"
        )
    trained = {a for r in rows for a in r.scores()}
    unknown = sorted({a for r in test for a in r.scores()} - trained)
    if trained and unknown and not any(trained & set(r.scores()) for r in test):
        raise ValueError(
            f"the test log's agents ({', '.join(unknown)}) are none of the training log's "
            f"({', '.join(sorted(trained))}): routers can only be trained and tested on the same agents"
        )
    return rows + test, [-1] * len(rows) + [0] * len(test), skipped + len(kept) - len(test), dropped


def _log_warnings(rows: Sequence[RunRecord], fold_of: Sequence[int], dropped: int) -> list[str]:
    """What a reader of the table would otherwise not know: a log of one agent, test questions dropped as
    repeats of training ones, test agents no router could learn, agents whose answers the votes never see."""
    out = []
    scored = sorted({a for r in rows for a in r.scores()})
    if len(scored) == 1:
        out.append(f"the log scores one agent ({scored[0]}): every router calls it")
    if dropped:
        out.append(f"dropped {dropped} test question{'s' if dropped > 1 else ''} also in the training log")
    trained = {a for r, f in zip(rows, fold_of, strict=True) if f < 0 for a in r.scores()}
    if trained:
        new = sorted({a for r, f in zip(rows, fold_of, strict=True) if f >= 0 for a in r.scores()} - trained)
        if new:
            out.append(
                f"test agent{'s' if len(new) > 1 else ''} {', '.join(new)} never scored in training: no learned "
                "router can choose them, the oracle can"
            )
    answered = Counter(a for r in rows for a, c in r.agents.items() if c.score is not None and c.pred is not None)
    silent = sorted({a for r in rows for a in r.scores()} - set(answered))
    if answered and silent:
        out.append(
            f"{', '.join(silent)} recorded no answers (pred) while other agents did: the vote cannot count "
            "their answers, so sets that include them are scored without them"
        )
    return out


def _llm_ready(
    routers: Sequence[str],
    llm: LLMSettings | None,
    seed: int,
    router_options: Mapping[str, Mapping[str, Any]] | None,
    say: Callable[[str], None],
) -> list[str]:
    """The routers that can run: one that calls an LLM is skipped (with a message) when no endpoint is
    configured or it cannot be reached, and the rest of the run goes on."""
    kept = []
    for name in routers:
        if router_info(name).reads_scores:
            kept.append(name)
            continue
        router = make_router(name, seed=seed, **dict((router_options or {}).get(name, {})))
        if needs_llm(router):
            try:
                connect_parts([router], llm)
            except LLMConfigError as e:
                say(f"skipping router {name}: {e}")
                continue
        kept.append(name)
    return kept


def _fold_rows(
    name: str,
    fold: int,
    data: Fold,
    test: Sequence[RunRecord],
    test_idx: Sequence[int],
    qids: Sequence[str],
    agg: Aggregator,
    seed: int,
    router_options: Mapping[str, Mapping[str, Any]] | None,
    fitted: dict[str, Any],
    finished: Mapping[Any, dict[str, Any]],
    record: Callable[[list[dict[str, Any]]], None],
    sweep: bool = False,
    llm: LLMSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[dict[str, Any]], list[RoutingDecision]]:
    """One row per test question of this fold for router ``name`` (score, agents called, cost, seconds, the
    guard's state), and the decisions when ``sweep`` needs them. Rows in ``finished`` (a resumed run's,
    keyed by router and row) are reused; the router is trained only if some are missing (or for ``sweep``),
    and its new rows go to ``record`` as soon as they are scored."""
    done = {(name, i): finished[name, i] for i in test_idx if (name, i) in finished}  # this router's, this fold's
    decisions: list[RoutingDecision] = []
    if sweep or len(done) < len(test_idx):
        t0 = time.perf_counter()
        opts = dict((router_options or {}).get(name, {}))
        if router_info(name).reads_scores:  # evaluation only: it reads the recorded scores
            opts.setdefault("scores", {r.qid: r.scores() for r in test})
            opts.setdefault("costs", {r.qid: r.costs() for r in test})
        if router_info(name).replays_agents:  # it asks agents while routing: they answer as recorded
            opts.setdefault("replies", {r.qid: {a: c.pred for a, c in r.agents.items()} for r in test})
        router = make_router(name, seed=seed, **opts)
        connect_parts([router], llm, check=False)
        fit_router(router, data.examples, fitted)
        guard = router.state.to_dict() if isinstance(router, GuardedRouter) else None
        decisions = router.route_many(data.graphs)
        agg_r = agg
        if isinstance(agg, AnswerAware) and any(d.early_stop for d in decisions):
            agg_r = agg.with_selector(fit_for(router, data.examples, data.train))
            if agg_r.selector is not None and progress is not None:
                progress(f"fold {fold + 1} {name}: {agg_r.selector.note}")
        rows = []
        for g, d, r, i in zip(data.graphs, decisions, test, test_idx):
            score, ran, cost = replay_question(agg_r, g.query, prepare_decision(agg_r, d, g), r)
            rows.append(
                {
                    "router": name,
                    "qid": qids[i],
                    "row": i,
                    "fold": fold,
                    "score": score,
                    "called": ran,
                    "cost": cost,
                    "guard": guard,
                }
            )
        share = (time.perf_counter() - t0) / max(len(rows), 1)
        for row in rows:
            row["seconds"] = share
        record(rows)
        for i, row in zip(test_idx, rows, strict=True):
            done.setdefault((name, i), row)
    return [done[name, i] for i in test_idx], decisions if sweep else []


@dataclass
class _Plan:
    """What every fold needs, picklable, so that a fold can run in a worker process."""

    rows: list[RunRecord]  # routing views, ids q000000…
    fold_of: list[int]
    qids: list[str]  # the log's own ids, for result rows
    agents: list[AgentSpec]
    routers: list[str]
    infos: dict[str, RouterInfo]  # their registry entries (a worker may not have them registered)
    seed: int
    embedder: str
    aggregator: str
    aggregator_options: dict[str, Any]
    router_options: dict[str, dict[str, Any]]
    builder_options: dict[str, Any] | None
    sweep: bool
    n_folds: int
    finished: dict[Any, dict[str, Any]]  # a resumed run's rows, by (router, row)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # texts embedded once (``embed_once.py``)


@dataclass
class _FoldRun:
    """One fold's outcome: per router its result rows (and decisions for ``sweep``), and best single."""

    fold: int
    test_idx: list[int]
    rows: dict[str, list[dict[str, Any]]]
    decisions: dict[str, list[RoutingDecision]]
    best_scores: list[float]
    best_agent: str
    seconds_graphs: float


def _ignore(_rows: list[dict[str, Any]]) -> None:
    return None


def _run_fold(
    plan: _Plan,
    fold: int,
    emb: Embedder,
    agg: Aggregator,
    say: Callable[[str], None],
    record: Callable[[list[dict[str, Any]]], None],
    llm: LLMSettings | None = None,
) -> _FoldRun:
    """Build the fold's graphs once, then train, route and score every router on them."""
    train = [r for r, f in zip(plan.rows, plan.fold_of) if f != fold]
    test_idx = [i for i, f in enumerate(plan.fold_of) if f == fold]
    test = [plan.rows[i] for i in test_idx]
    t0 = time.perf_counter()
    data = build_fold(train, test, plan.agents, emb, plan.builder_options, _fold_progress(say, fold, plan.n_folds))
    seconds_graphs = time.perf_counter() - t0
    say(f"fold {fold + 1}/{plan.n_folds}: {len(train)} train / {len(test)} test rows, graphs in {seconds_graphs:.1f}s")
    best_scores, best_agent = _best_single(train, test)
    run = _FoldRun(fold, test_idx, {}, {}, best_scores, best_agent, seconds_graphs)
    fitted: dict[str, Any] = {}  # training_key -> a router fitted on this fold
    for name in plan.routers:
        rows, decisions = _fold_rows(
            name,
            fold,
            data,
            test,
            test_idx,
            plan.qids,
            agg,
            plan.seed,
            plan.router_options,
            fitted,
            plan.finished,
            record,
            plan.sweep,
            llm,
            say,
        )
        run.rows[name], run.decisions[name] = rows, decisions
        scores = [float(r["score"]) for r in rows]
        seconds = sum(float(r["seconds"]) for r in rows)
        accuracy = float(np.mean(scores)) if scores else 0.0
        say(f"fold {fold + 1}/{plan.n_folds} {name}: {accuracy:.3f} ({seconds:.1f}s)")
    return run


def _fold_in_worker(plan: _Plan, fold: int, emit: Callable[[Any], None]) -> _FoldRun:
    """``_run_fold`` in a fresh worker process: registers the plan's routers it does not know, builds its
    own embedder and aggregator, and emits its progress lines and, as soon as each router's are scored,
    its rows (the caller appends them to the results log, so a killed run loses at most a router's fold)."""
    known = set(router_names())
    for info in plan.infos.values():
        if info.name not in known:
            declared = {f.name: getattr(info, f.name) for f in fields(info) if f.name not in ("name", "target")}
            register_router(info.name, info.target, **declared)
    agg = make_aggregator(plan.aggregator, **plan.aggregator_options)
    emb = make_embedder(plan.embedder)
    return _run_fold(plan, fold, PrecomputedEmbedder(emb, plan.vectors) if plan.vectors else emb, agg, emit, emit)


def _fold_progress(say: Callable[[str], None], fold: int, n_folds: int) -> Callable[[str], None]:
    """``say`` with each message prefixed by the fold it is about."""
    return lambda msg: say(f"fold {fold + 1}/{n_folds}: {msg}")


def _input_warnings(
    records: Sequence[RunRecord],
    test_records: Sequence[RunRecord] | None,
    usable: Sequence[RunRecord],
    fold_of: Sequence[int],
    dropped: int,
    prices: Mapping[str, Mapping[str, float]] | None,
    log_names: Sequence[str] | None = None,
) -> list[str]:
    """What a reader of the table would otherwise not know about its inputs: scores off the [0, 1] scale,
    a prices file that misses or misnames agents, and ``_log_warnings``."""
    train_name, test_name = (*(log_names or ()), None, None)[:2]
    logs = [(train_name or ("the routing log" if test_records is None else "the training log"), records)]
    logs += [(test_name or "the test log", test_records)] if test_records is not None else []
    notes = [note.removeprefix("warning: ") for source, rows in logs if (note := score_scale_note(rows, source))]
    if prices and (gap := price_gap_note(usable, prices)):
        notes.append(f"{gap}: the report counts their calls, not dollars")
    return notes + _log_warnings(usable, fold_of, dropped)


def _run_folds(
    plan: _Plan,
    jobs: int,
    agg: Aggregator,
    say: Callable[[str], None],
    record: Callable[[list[dict[str, Any]]], None],
    llm: LLMSettings | None,
) -> dict[int, _FoldRun]:
    """Every fold's run: in ``jobs`` worker processes (questions embedded once, split between them), or here
    one after another (always so with an LLM router, whose client stays in this process)."""
    n_folds, rows = plan.n_folds, plan.rows
    if jobs > 1 and n_folds > 1 and not any(info.needs_llm for info in plan.infos.values()):
        workers = min(jobs, n_folds)
        texts = texts_to_embed([r.question for r in rows], (plan.builder_options or {}).get("extractor"))
        say(f"embedding {len(rows)} questions and their entities ({len(texts)} texts) in {workers} worker processes")
        plan.vectors = embed_in_processes(plan.embedder, texts, workers)
        say(f"running {n_folds} folds in {workers} worker processes")

        def on_event(event: str | list[dict[str, Any]]) -> None:  # a progress line, or rows just scored
            if isinstance(event, str):
                say(event)
            else:
                record(event)

        done = run_in_processes(
            _fold_in_worker, plan, range(n_folds), jobs, on_event, lambda f: f"fold {f + 1}/{n_folds}"
        )
        return {run.fold: run for run in done}
    emb = make_embedder(plan.embedder)
    return {fold: _run_fold(plan, fold, emb, agg, say, record, llm) for fold in range(n_folds)}


def _tally_folds(
    runs: Mapping[int, _FoldRun], rows: Sequence[RunRecord], routers: Sequence[str]
) -> tuple[dict[str, _Tally], list[int], list[float], list[str], float]:
    """Each router's outcomes over the folds, in evaluation order, with the tested row indexes, best
    single's scores, each fold's best single agent and the seconds spent building graphs."""
    tallies = {name: _Tally() for name in routers}
    tested: list[int] = []  # row indexes in evaluation order (fold by fold, as one process runs them)
    best_scores: list[float] = []
    best_agents: list[str] = []
    seconds_graphs = 0.0
    for fold in sorted(runs):
        run = runs[fold]
        tested += run.test_idx
        best_scores += run.best_scores
        best_agents.append(run.best_agent)
        seconds_graphs += run.seconds_graphs
        for name in routers:
            tally, fold_rows = tallies[name], run.rows[name]
            tally.decisions += run.decisions[name]
            if fold_rows and fold_rows[0].get("guard") is not None:
                tally.guard.append(GuardState.from_dict(fold_rows[0]["guard"]))
            fold_scores = [float(r["score"]) for r in fold_rows]
            for r in fold_rows:
                tally.calls.append(len(r["called"]))
                tally.costs.append(r["cost"])
                tally.chosen.update(r["called"])
                recorded = rows[r["row"]].scores()
                best = max(recorded.values())
                if best > 0:
                    tally.hits.append(any(recorded.get(a, 0.0) >= best for a in r["called"]))
            tally.scores += fold_scores
            tally.fold_accuracy.append(float(np.mean(fold_scores)) if fold_scores else 0.0)
            tally.seconds += sum(float(r["seconds"]) for r in fold_rows)

    return tallies, tested, best_scores, best_agents, seconds_graphs


def run_replay_benchmark(
    records: Sequence[RunRecord],
    *,
    test_records: Sequence[RunRecord] | None = None,
    folds: int = 5,
    routers: Sequence[str] = DEFAULT_ROUTERS,
    seed: int = 0,
    embedder: str = "hashing",
    aggregator: str = "answer-aware",
    aggregator_options: Mapping[str, Any] | None = None,
    router_options: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
    agent_specs: Sequence[AgentSpec] | None = None,
    builder_options: Mapping[str, Any] | None = None,
    title: str | None = None,
    sweep: bool = False,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    llm: LLMSettings | None = None,
    results_log: ResultsLog | None = None,
    jobs: int = 1,
    log_names: Sequence[str] | None = None,
) -> BenchReport:
    """Replay ``records`` with k-fold cross-validation by question (or train on ``records`` and test on
    ``test_records``, minus test questions that also appear in train) and compare ``routers``.

    ``agent_specs`` gives agents descriptions/skills (default: names only); ``builder_options`` go to
    ``QueryGraphBuilder`` (e.g. ``k_similar``). Rows without any scored agent are skipped (counted).
    Costs are the log's ``cost_usd``, else tokens × prices (the log's or ``prices``, see ``bench/costs.py``).
    ``sweep`` adds cost–quality and calls–quality curves per router (``bench/curves.py``) to ``curves``.
    With ``results_log`` (keyed by router and row number), each router's rows of a fold are appended as
    soon as they are scored, and rows already there (a resumed run) are reused: the router is not trained
    again unless ``sweep`` needs its decisions. ``jobs`` > 1 runs the folds in that many worker processes
    (``bench/fold_pool.py``; one torch thread each, same figures); LLM routers keep them in this process.
    ``log_names`` (the training and test logs' file names) name the logs in warnings.
    """
    say = progress or (lambda _msg: None)
    _check_routers(routers)
    routers = _llm_ready(routers, llm, seed, router_options, say)
    usable, fold_of, skipped, dropped = _split(records, test_records, folds, seed)
    if skipped:
        say(f"skipped {skipped} row{'s' if skipped > 1 else ''} where no agent has a score")
    for warning in _input_warnings(records, test_records, usable, fold_of, dropped, prices, log_names):
        if progress is None:  # a script or notebook: a Python warning, which it sees (or filters) as it likes
            warnings.warn(warning, UserWarning, stacklevel=2)
        else:
            say(f"warning: {warning}")
    n_folds = folds if test_records is None else 1
    rows = [routing_view(r, f"q{i:06d}") for i, r in enumerate(with_costs(usable, prices))]
    given = {s.name: s for s in agent_specs or ()}
    agents = [given.get(a) or AgentSpec(name=a) for a in agent_order(rows)]
    plan = _Plan(
        rows=rows,
        fold_of=fold_of,
        qids=[r.qid for r in usable],
        agents=agents,
        routers=list(routers),
        infos={name: router_info(name) for name in routers},
        seed=seed,
        embedder=embedder,
        aggregator=aggregator,
        aggregator_options=dict(aggregator_options or {}),
        router_options={k: dict(v) for k, v in (router_options or {}).items()},
        builder_options=dict(builder_options) if builder_options else None,
        sweep=sweep,
        n_folds=n_folds,
        finished=dict(results_log.done) if results_log is not None else {},
    )
    agg = make_aggregator(aggregator, **plan.aggregator_options)
    if results_log is not None and (moved := results_log.start()) is not None:  # the input is good: the
        say(f"moved the previous run to {moved}")  # folder becomes this run's (a refused run left it alone)
    record = results_log.append if results_log is not None else _ignore
    runs = _run_folds(plan, jobs, agg, say, record, llm)
    tallies, tested, best_scores, best_agents, seconds_graphs = _tally_folds(runs, rows, routers)
    evaluated = [rows[i] for i in tested]
    n = len(evaluated)
    oracle = float(np.mean([max(r.scores().values()) for r in evaluated])) if n else 0.0
    best_single = float(np.mean(best_scores)) if n else 0.0
    names = [a.name for a in agents]
    # best single with hindsight: agents ranked by their mean on the evaluated rows they answered, each row
    # taking the first of them that ran there (as ``best-single`` does with the training ranking)
    hindsight_scores, hindsight_agent = _best_single(evaluated, evaluated) if n else ([], "")
    most_common = Counter(best_agents).most_common(1)
    results = [tallies[name].result(name, best_single, oracle, seed) for name in routers]
    compare(results, best_scores, [name for name in routers if router_info(name).baseline], seed)
    report = BenchReport(
        title=title or f"replay benchmark ({n} questions, {n_folds} fold{'s' if n_folds > 1 else ''})",
        n=n,
        folds=n_folds,
        best_single=best_single,
        best_single_agent=most_common[0][0] if most_common else "",
        oracle=oracle,
        embedder=embedder,
        seed=seed,
        results=results,
        agent_choice={name: {a: t.chosen[a] / max(n, 1) for a in names} for name, t in tallies.items()},
        aggregator=aggregator,
        best_single_agents=best_agents,
        hindsight_agent=hindsight_agent,
        hindsight_best=float(np.mean(hindsight_scores)) if n else 0.0,
        agents=names,
        qids=[usable[i].qid for i in tested],
        fold_of=[fold_of[i] for i in tested],
        tasks=[usable[i].dataset or "" for i in tested],
        skipped=skipped,
        dropped_overlap=dropped,
        seconds_graphs=seconds_graphs,
        has_answers=any(c.pred is not None for r in evaluated for c in r.agents.values()),
        best_single_scores=best_scores,
    )
    if sweep:
        report.curves = sweep_report(
            {name: tallies[name].decisions for name in routers if not router_info(name).reads_scores},
            evaluated,
            [fold_of[i] for i in tested],
            rows,
            fold_of,
            agg,
            seed,
        )
    return report
