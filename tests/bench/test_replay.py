from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from agentroute.aggregate import make_aggregator
from agentroute.bench.logs import read_routing_log
from agentroute.bench.replay import build_fold, make_folds, routing_view, run_replay_benchmark
from agentroute.bench.report import BenchReport, report_markdown
from agentroute.kg.embed import make_embedder
from agentroute.normalize import normalize_answer
from agentroute.routers.registry import make_router
from agentroute.testing.routing_log import synthetic_routing_log, write_routing_log
from agentroute.types import AgentRecord, AgentSpec, RunRecord

BASELINES = ["knn", "mlp", "best-single", "all", "random", "oracle"]
FAST_MLP = {"mlp": {"epochs": 15}}


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[RunRecord]:
    """400 rows over twelve datasets and four experts, MoRE-shaped, read back through the log reader."""
    path = tmp_path_factory.mktemp("logs") / "log.jsonl"
    return read_routing_log(write_routing_log(path, synthetic_routing_log(400, seed=0)))


@pytest.fixture(scope="module")
def report(records: list[RunRecord]) -> BenchReport:
    return run_replay_benchmark(records, folds=2, routers=BASELINES, router_options=FAST_MLP)


def per_question(report: BenchReport, records: list[RunRecord]) -> list[RunRecord]:
    by_id = {r.qid: r for r in records}
    return [by_id[q] for q in report.qids]


def test_every_question_is_evaluated_once(report: BenchReport, records: list[RunRecord]) -> None:
    assert report.n == len(records) == len(report.qids) == len(set(report.qids))
    assert report.folds == 2
    assert sorted(Counter(report.fold_of).values()) == [200, 200]
    for r in report.results:
        assert len(r.scores) == report.n
        assert r.ci_low <= r.accuracy <= r.ci_high
        assert r.cost_per_query is None  # the log has no dollar costs
    assert report.result("all").calls_per_query == 4.0
    assert report.result("knn").calls_per_query == 1.0


def test_oracle_bounds_every_router_per_question(report: BenchReport, records: list[RunRecord]) -> None:
    best = [max(r.scores().values()) for r in per_question(report, records)]
    assert report.oracle == pytest.approx(np.mean(best))
    assert report.result("oracle").accuracy == pytest.approx(report.oracle)
    for r in report.results:
        assert all(s <= b + 1e-12 for s, b in zip(r.scores, best)), r.router
    assert report.oracle > report.best_single > report.result("random").accuracy - 0.1


def test_all_equals_an_independent_majority_vote(report: BenchReport, records: list[RunRecord]) -> None:
    order = list(records[0].agents)  # the agents' first-appearance order breaks ties

    def majority(rec: RunRecord) -> float:
        said = {a: normalize_answer(rec.agents[a].pred) for a in order}
        votes = Counter(k for k in said.values() if k)

        def at_an_end(short: str, long: str) -> bool:
            return long.startswith(short + " ") or long.endswith(" " + short)

        # from the shortest answer up: each one sides with the most voted standing answer it begins or ends
        # with, or stands itself
        standing: list[str] = []
        side: dict[str, str] = {}
        for k in sorted(votes, key=lambda k: (len(k.split()), k)):
            homes = [m for m in standing if at_an_end(m, k)]
            side[k] = min(homes, key=lambda m: (-votes[m], len(m.split()), m)) if homes else k
            if not homes:
                standing.append(k)
        groups: dict[str, list[str]] = {}
        for a in order:
            if said[a]:
                groups.setdefault(side[said[a]], []).append(a)
        top = max(len(g) for g in groups.values())
        winner = min((k for k, g in groups.items() if len(g) == top), key=lambda k: order.index(groups[k][0]))
        return max(rec.agents[a].score for a in groups[winner] if said[a] == winner)

    expected = [majority(rec) for rec in per_question(report, records)]
    assert report.result("all").scores == pytest.approx(expected)


def test_best_single_is_the_training_best_agent_per_fold(report: BenchReport, records: list[RunRecord]) -> None:
    fold_by_id = dict(zip(report.qids, report.fold_of))
    scores, agents = [], []
    for fold in range(report.folds):
        train = [r for r in records if fold_by_id[r.qid] != fold]
        test = [r for r in records if fold_by_id[r.qid] == fold]
        means = {a: np.mean([r.agents[a].score for r in train]) for a in train[0].agents}
        agent = min(means, key=lambda a: (-means[a], a))
        agents.append(agent)
        scores += [r.agents[agent].score for r in test]
    assert report.best_single_agents == agents
    assert report.best_single == pytest.approx(np.mean(scores))
    assert report.result("best-single").accuracy == pytest.approx(report.best_single)
    assert report.result("best-single").gap_closed == pytest.approx(0.0)
    hindsight = {a: np.mean([r.agents[a].score for r in records]) for a in records[0].agents}
    assert report.hindsight_best == pytest.approx(max(hindsight.values()))


def test_folds_do_not_depend_on_the_routers_run(report: BenchReport, records: list[RunRecord]) -> None:
    alone = run_replay_benchmark(records, folds=2, routers=["knn"])
    assert alone.fold_of == report.fold_of and alone.qids == report.qids
    assert alone.result("knn").scores == report.result("knn").scores


def test_make_folds_partitions_keep_duplicates_together_and_are_seeded() -> None:
    questions = [f"question {i}" for i in range(50)] + ["Question 3", "question  7"]
    folds = make_folds(questions, 5, seed=1)
    assert folds == make_folds(questions, 5, seed=1)
    assert folds != make_folds(questions, 5, seed=2)
    assert set(folds) == set(range(5))
    assert folds[50] == folds[3] and folds[51] == folds[7]
    assert max(Counter(folds).values()) - min(Counter(folds).values()) <= 2
    with pytest.raises(ValueError, match="folds"):
        make_folds(questions[:3], 5)


def test_no_leakage_into_test_graphs(report: BenchReport, records: list[RunRecord]) -> None:
    fold_by_id = dict(zip(report.qids, report.fold_of))
    views = {r.qid: routing_view(r, f"v{i}") for i, r in enumerate(records)}
    train = [views[r.qid] for r in records if fold_by_id[r.qid] != 0]
    test = [views[r.qid] for r in records if fold_by_id[r.qid] == 0]
    agents = [AgentSpec(name=a) for a in records[0].agents]
    emb, agg = make_embedder("hashing"), make_aggregator()

    def knn_scores(fold_train: list[RunRecord], **options: int) -> list[float]:
        from agentroute.bench.recorded import replay_question

        fold = build_fold(fold_train, test, agents, emb)
        router = make_router("knn", **options).fit(fold.examples)
        return [replay_question(agg, g, d, r)[0] for g, d, r in zip(fold.graphs, router.route_many(fold.graphs), test)]

    clean = build_fold(train, test, agents, emb)
    train_ids, test_texts = {r.qid for r in train}, {r.question for r in test}
    for g in clean.graphs:
        assert g.query.gold is None and not g.query.meta
        assert {p.id for p in g.similar} <= train_ids
        assert not {p.text for p in g.similar} & test_texts
    # the runner's knn equals knn on a history of the training fold only ...
    runner = [s for s, q in zip(report.result("knn").scores, report.qids) if fold_by_id[q] == 0]
    assert knn_scores(train) == pytest.approx(runner)
    # ... and planting the test questions' own records in history would have changed it (seen most clearly
    # by a knn that trusts the single nearest past question, which a planted record always is)
    planted = [r.model_copy(update={"qid": f"leak-{r.qid}"}) for r in test]
    assert np.mean(knn_scores(train + planted, neighbours=1)) > np.mean(knn_scores(train, neighbours=1)) + 0.05


def test_runner_hides_gold_and_ids_from_routers_and_keeps_the_task_for_training(records: list[RunRecord]) -> None:
    view = routing_view(records[0], "q000001")
    assert view.qid == "q000001" and view.gold is None and not view.model_extra
    assert view.dataset == records[0].dataset  # a training label (TrainExample.task), never routed on
    assert all(not c.model_extra for c in view.agents.values())  # e.g. another router's confidence
    assert view.question == records[0].question


def row(qid: str, question: str, cells: dict[str, tuple[float, str]]) -> RunRecord:
    agents = {a: AgentRecord(score=s, pred=p, cost_usd=0.01) for a, (s, p) in cells.items()}
    return RunRecord(qid=qid, dataset="toy", question=question, agents=agents)


def toy_log(n: int, offset: int = 0) -> list[RunRecord]:
    out = []
    for i in range(offset, offset + n):
        cells = {"solver": (float(i % 2), "x"), "checker": (float(i % 3 == 0), "y")}
        if i % 4 != 0:
            cells["sometimes"] = (1.0, "z")  # missing on every fourth row: not run there
        out.append(row(f"t{i}", f"toy question number {i} about topic {i % 5}", cells))
    return out


def test_missing_agents_are_never_chosen_and_costs_add_up() -> None:
    rep = run_replay_benchmark(toy_log(40), folds=2, routers=["all", "best-single", "oracle"])
    missing = {f"t{i}" for i in range(0, 40, 4)}
    all_calls = [3 - (q in missing) for q in rep.qids]
    assert rep.result("all").calls_per_query == pytest.approx(np.mean(all_calls))
    assert rep.result("all").cost_per_query == pytest.approx(0.01 * np.mean(all_calls))
    assert rep.result("best-single").cost_per_query == pytest.approx(0.01)
    assert rep.agent_choice["best-single"]["sometimes"] == pytest.approx(0.75)  # best when it ran
    assert rep.result("best-single").accuracy == pytest.approx(rep.best_single)


def test_best_in_hindsight_counts_an_agent_only_where_it_ran() -> None:
    rows = []
    for i in range(40):
        cells = {"steady": (float(i % 5 != 0), "s")}  # right on 80% of the rows, runs on all
        if i % 2 == 0:
            cells["rare"] = (1.0, "r")  # always right, but runs on half the rows
        rows.append(row(f"h{i}", f"question {i}", cells))
    rep = run_replay_benchmark(rows, folds=2, routers=["best-single"])
    assert rep.hindsight_agent == "rare"  # counting "not run" as wrong would name "steady" (0.8 vs 0.5)
    by_id = {r.qid: r.scores() for r in rows}
    expected = np.mean([by_id[q].get("rare", by_id[q]["steady"]) for q in rep.qids])  # else the next best
    assert rep.hindsight_best == pytest.approx(expected) == pytest.approx(0.9)


def test_rows_without_any_score_are_skipped_and_said() -> None:
    unscored = RunRecord(qid="u", dataset="toy", question="nobody scored this", agents={"solver": AgentRecord()})
    said: list[str] = []
    rep = run_replay_benchmark([*toy_log(20), unscored], folds=2, routers=["best-single"], progress=said.append)
    assert rep.skipped == 1 and rep.n == 20 and "u" not in rep.qids
    assert "skipped 1 row where no agent has a score" in said


def test_the_oracle_takes_the_cheapest_of_the_agents_that_are_right() -> None:
    rows = []
    for i in range(40):
        agents = {
            "a-dear": AgentRecord(score=1.0, pred="x", cost_usd=0.01),
            "b-cheap": AgentRecord(score=float(i % 2 == 0), pred="x" if i % 2 == 0 else "y", cost_usd=0.001),
        }
        rows.append(RunRecord(qid=f"o{i}", dataset="toy", question=f"question {i}", agents=agents))
    rep = run_replay_benchmark(rows, folds=2, routers=["oracle", "best-single"], sweep=True)
    assert rep.result("oracle").accuracy == 1.0
    assert rep.result("oracle").cost_per_query == pytest.approx(0.5 * 0.001 + 0.5 * 0.01)  # not 0.01
    assert rep.curves["oracle"]["cost"] == pytest.approx(rep.result("oracle").cost_per_query)


def test_train_test_mode_drops_test_questions_seen_in_train() -> None:
    train = toy_log(30)
    test = toy_log(10, offset=100) + [r.model_copy(update={"qid": f"dup{i}"}) for i, r in enumerate(train[:3])]
    with pytest.warns(UserWarning, match="dropped 3 test questions also in the training log"):
        rep = run_replay_benchmark(train, test_records=test, routers=["knn", "oracle"])
    assert rep.folds == 1 and rep.dropped_overlap == 3 and rep.n == 10
    assert set(rep.qids) == {f"t{i}" for i in range(100, 110)}


def test_unknown_router_fails_before_any_work() -> None:
    with pytest.raises(ValueError, match="unknown router"):
        run_replay_benchmark(toy_log(10), folds=2, routers=["knn", "no-such-router"])


def test_gnn_and_gnn_top1_share_one_training_per_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentroute.routers.gnn import GNNRouter

    fits: list[GNNRouter] = []
    original = GNNRouter.fit

    def counting_fit(self: GNNRouter, examples, embedder=None):  # type: ignore[no-untyped-def]
        fits.append(self)
        return original(self, examples, embedder)

    monkeypatch.setattr(GNNRouter, "fit", counting_fit)
    fast = {"epochs": 2, "ensemble": 1, "hidden": 16, "heads": 2, "device": "cpu"}
    rep = run_replay_benchmark(
        toy_log(40), folds=2, routers=["gnn", "gnn-top1"], router_options={"gnn": fast, "gnn-top1": fast}
    )
    assert len(fits) == 2  # one per fold, shared: they differ only in how they select
    assert rep.result("gnn-top1").calls_per_query == 1.0
    fits.clear()
    wider = {"gnn": fast, "gnn-top1": {**fast, "hidden": 32}}
    run_replay_benchmark(toy_log(40), folds=2, routers=["gnn", "gnn-top1"], router_options=wider)
    assert len(fits) == 4  # trained differently: each fits its own


def test_accuracy_by_task_matches_the_questions_of_each_task(report: BenchReport, records: list[RunRecord]) -> None:
    from agentroute.bench.report import by_task, report_markdown

    rows = per_question(report, records)
    assert report.tasks == [r.dataset for r in rows]
    table = by_task(report)
    assert set(table) == {r.dataset for r in records} and len(table) == 12
    for task, cells in table.items():
        idx = [i for i, r in enumerate(rows) if r.dataset == task]
        assert cells["n"] == len(idx)
        assert cells["oracle"] == pytest.approx(np.mean([max(rows[i].scores().values()) for i in idx]))
        assert cells["best single"] == pytest.approx(np.mean([report.best_single_scores[i] for i in idx]))
        assert cells["knn"] == pytest.approx(np.mean([report.result("knn").scores[i] for i in idx]))
    assert "Accuracy by task" in report_markdown(report)
    one_task = report.model_copy(update={"tasks": ["same"] * report.n})
    assert by_task(one_task) == {} and "Accuracy by task" not in report_markdown(one_task)


def test_a_log_without_answers_says_that_extra_calls_cannot_change_an_answer(records: list[RunRecord]) -> None:
    scores_only = [
        r.model_copy(update={"agents": {a: AgentRecord(score=c.score) for a, c in r.agents.items()}})
        for r in records[:60]
    ]
    bare = run_replay_benchmark(scores_only, folds=2, routers=["all", "best-single"])
    answered = run_replay_benchmark(records[:60], folds=2, routers=["all", "best-single"])
    one_call = run_replay_benchmark(scores_only, folds=2, routers=["best-single"])

    assert not bare.has_answers and answered.has_answers
    assert "records no answers (pred)" in report_markdown(bare)
    assert "records no answers" not in report_markdown(answered)
    assert "records no answers" not in report_markdown(one_call)  # nothing calls more than one agent


def test_a_run_with_nothing_to_test_is_an_error_not_an_empty_table() -> None:
    def row(question: str, scores: dict[str, float | None]) -> RunRecord:
        return RunRecord(qid=question, question=question, agents={a: AgentRecord(score=s) for a, s in scores.items()})

    train = [row(f"What is {i}?", {"a": 1.0, "b": 0.0}) for i in range(4)]
    with pytest.raises(ValueError, match="no test questions left of 4: 4 also in the training log"):
        run_replay_benchmark(train, routers=["knn"], test_records=train)
    with pytest.raises(ValueError, match="no test questions left of 5: 4 also in the training log, 1 without a sc"):
        run_replay_benchmark(train, routers=["knn"], test_records=[*train, row("q9", {"a": None})])
    others = [row("What is 9?", {"x": 1.0, "y": 0.0})]
    with pytest.raises(ValueError, match=r"the test log's agents \(x, y\) are none of the training log's \(a, b\)"):
        run_replay_benchmark(train, routers=["knn"], test_records=others)
    with pytest.raises(ValueError, match="none of the log's 2 rows has a score"):
        run_replay_benchmark([row("q1", {"a": None}), row("q2", {"a": None})], routers=["knn"], folds=2)
    with pytest.raises(ValueError, match="the log has no rows"):
        run_replay_benchmark([], routers=["knn"], folds=2)


def test_what_the_table_cannot_show_is_said_as_warnings(records: list[RunRecord]) -> None:
    """Test questions dropped as repeats of training ones, a test agent no router learned, and an agent
    whose answers were not recorded each get a warning line (shown even without progress output)."""
    train = [r.model_copy(deep=True) for r in records[:200]]
    test = [r.model_copy(deep=True) for r in records[150:260]]  # 50 repeats of training questions
    for r in test:
        r.agents["newcomer"] = AgentRecord(score=1.0, pred="x")
    for r in train + test:
        first = next(iter(r.agents))
        r.agents[first] = r.agents[first].model_copy(update={"pred": None})
    said: list[str] = []
    run_replay_benchmark(train, test_records=test, routers=["best-single", "oracle"], progress=said.append)
    warnings = [m for m in said if m.startswith("warning: ")]
    assert any("dropped 50 test questions also in the training log" in w for w in warnings), said
    assert any("newcomer never scored in training" in w for w in warnings), said
    assert any(f"{next(iter(records[0].agents))} recorded no answers (pred)" in w for w in warnings), said
    quiet: list[str] = []
    run_replay_benchmark(records[:120], folds=2, routers=["best-single"], progress=quiet.append)
    assert not [m for m in quiet if m.startswith("warning: ")]


def test_set_hit_is_tcars_routing_accuracy(report: BenchReport, records: list[RunRecord]) -> None:
    """Of the questions some agent got right, the share whose called agents include a best-scoring one:
    recomputed here from best-single's known choice (one agent per fold)."""
    assert report.result("oracle").set_hit == 1.0 and report.result("all").set_hit == 1.0
    rows = per_question(report, records)
    chosen = dict(enumerate(report.best_single_agents))
    hits = [
        r.scores().get(chosen[fold], 0.0) >= max(r.scores().values())
        for r, fold in zip(rows, report.fold_of, strict=True)
        if max(r.scores().values()) > 0
    ]
    assert report.result("best-single").set_hit == pytest.approx(np.mean(hits))
    assert "Routing accuracy as TCAR measures it" in report_markdown(report)


def test_a_script_sees_the_log_warnings_as_python_warnings(records: list[RunRecord]) -> None:
    """Without ``progress`` (a notebook, a script), what the CLI prints as ``warning:`` lines are warnings."""
    rated = [r.model_copy(update={"agents": {a: AgentRecord(score=1 + 9 * c.score) for a, c in r.agents.items()}})
             for r in records[:120]]  # fmt: skip
    with pytest.warns(UserWarning, match=r"the routing log: scores range over \[1, 10\]"):
        run_replay_benchmark(rated, folds=2, routers=["best-single"])
    with pytest.warns(UserWarning, match="dropped 20 test questions also in the training log"):
        run_replay_benchmark(records[:100], test_records=records[80:120], routers=["best-single"])
    said: list[str] = []
    run_replay_benchmark(rated, folds=2, routers=["best-single"], progress=said.append)
    assert any(s.startswith("warning: the routing log: scores range") for s in said)


def test_routers_given_as_one_string_is_a_clear_error(records: list[RunRecord]) -> None:
    with pytest.raises(TypeError, match=r"expected a list of router names, e.g. \['knn'\]"):
        run_replay_benchmark(records[:60], folds=2, routers="knn")  # type: ignore[arg-type]
