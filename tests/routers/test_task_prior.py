"""The task prior: a classifier of the question's task (trained on the log's task labels) turned into each
agent's expected score, read by the GNN as evidence. Synthetic questions only (no data files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agentroute.bench.replay import build_fold, routing_view, run_replay_benchmark
from agentroute.kg.embed import make_embedder
from agentroute.routers import task_prior as tasks_module
from agentroute.routers.gnn import GNNRouter
from agentroute.routers.gnn.checkpoint import load_checkpoint, save_checkpoint
from agentroute.routers.gnn.features import EVIDENCE_FEATURES
from agentroute.routers.registry import make_router, router_info
from agentroute.routers.task_prior import TaskPrior, cross_fitted
from agentroute.types import AgentRecord, AgentSpec, RunRecord

CITIES = ["Paris", "Lima", "Oslo", "Cairo", "Quito", "Hanoi", "Dakar", "Perth", "Bern", "Riga"]
ITEMS = ["apples", "pencils", "coins", "marbles", "stamps", "books", "shells", "cards"]


def question(task: str, i: int) -> str:
    if task == "arith":
        return f"Tom has {i + 3} {ITEMS[i % len(ITEMS)]} and buys {2 * i + 1} more. How many does he have now?"
    return f"which river flows through {CITIES[i % len(CITIES)]} and what is its length"


def rows(n: int, start: int = 0) -> list[RunRecord]:
    """Half arithmetic word problems (the calculator is right), half geography (the atlas is right)."""
    out = []
    for i in range(start, start + n):
        task = "arith" if i % 2 == 0 else "geo"
        right = "calc" if task == "arith" else "atlas"
        cells = {a: AgentRecord(score=float(a == right), pred=a) for a in ("calc", "atlas", "guess")}
        out.append(RunRecord(qid=f"r{i}", dataset=task, question=question(task, i), agents=cells))
    return out


def fit_prior(train: list[RunRecord]) -> TaskPrior | None:
    return TaskPrior.fit([r.question for r in train], [r.dataset for r in train], [r.scores() for r in train])


def test_recognises_the_task_of_unseen_questions_and_expects_its_best_agent() -> None:
    prior = fit_prior(rows(80))
    assert prior is not None and prior.tasks == ["arith", "geo"]
    test = rows(20, start=1000)
    probs = prior.task_probs([r.question for r in test])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    expected = prior.expected([r.question for r in test], [["calc", "atlas", "guess", "new-agent"]] * len(test))
    for r, e in zip(test, expected, strict=True):
        best = "calc" if r.dataset == "arith" else "atlas"
        assert ["calc", "atlas", "guess", "new-agent"][int(np.argmax(e))] == best
        assert e[2] < 0.1  # "guess" is never right on either task
        assert e[3] == pytest.approx(float(np.mean(prior.table)))  # an agent the prior never saw: the mean


def test_words_alone_tell_tasks_apart_when_the_form_is_the_same() -> None:
    # same length, numerals and leading word: only the fruit/water words separate the tasks, so the
    # classifier's term weights (its sparse TF-IDF product and that product's gradient) must do the work
    words = {"fruit": ["apple", "mango", "lemon", "grape"], "water": ["river", "ocean", "creek", "brook"]}

    def text(task: str, i: int) -> str:
        return f"tell me about the {words[task][i % 4]} number {i}"

    train = [(t, i) for i in range(40) for t in words]
    prior = TaskPrior.fit([text(t, i) for t, i in train], [t for t, _ in train], [{"a": 1.0}] * len(train))
    assert prior is not None
    probs = prior.task_probs([text(t, i) for i in range(100, 120) for t in words])
    recognised = [prior.tasks[k] for k in probs.argmax(axis=1)]
    assert recognised == [t for _ in range(100, 120) for t in words]


def test_the_classifier_keeps_a_bounded_number_of_weights_the_most_frequent_terms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [question(t, i) for i in range(60) for t in ("arith", "geo")]
    labels = [t for _ in range(60) for t in ("arith", "geo")]
    full = TaskPrior.fit(texts, labels, [{"a": 1.0}] * len(texts))
    monkeypatch.setattr(tasks_module, "MAX_WEIGHTS", 2 * 12)  # two tasks: room for 12 terms
    capped = TaskPrior.fit(texts, labels, [{"a": 1.0}] * len(texts))
    assert full is not None and capped is not None and len(full.lexicon) > 12
    assert capped.lexicon.terms == full.lexicon.terms[:12]  # the lexicon lists terms most frequent first
    assert capped.term_weights.shape == (12, 2)
    probs = capped.task_probs([question(t, i) for i in range(200, 210) for t in ("arith", "geo")])
    assert [capped.tasks[k] for k in probs.argmax(axis=1)] == ["arith", "geo"] * 10


def test_needs_two_labelled_tasks() -> None:
    train = rows(40)
    assert TaskPrior.fit([r.question for r in train], [None] * 40, [r.scores() for r in train]) is None
    assert TaskPrior.fit([r.question for r in train], ["one"] * 40, [r.scores() for r in train]) is None
    few = ["arith"] * 38 + ["geo"] * 2  # a task needs MIN_PER_TASK labelled questions
    assert TaskPrior.fit([r.question for r in train], few, [r.scores() for r in train]) is None


def test_state_round_trip_gives_the_same_expectations() -> None:
    prior = fit_prior(rows(60))
    assert prior is not None
    again = TaskPrior.from_state(prior.state())
    texts = [r.question for r in rows(10, start=500)]
    agents = [["atlas", "calc"]] * len(texts)
    for a, b in zip(prior.expected(texts, agents), again.expected(texts, agents), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_cross_fitted_expectations_come_from_priors_that_never_saw_the_question() -> None:
    train = rows(60)
    texts, tasks, scores = [r.question for r in train], [r.dataset for r in train], [r.scores() for r in train]
    # one arithmetic question mislabelled as geography: a prior trained on it would lean towards the atlas
    # for exactly that text; one that never saw it reads the text as the arithmetic it is
    tasks[0] = "geo"
    agents = [["calc", "atlas"]] * len(train)
    full, held_out = cross_fitted(texts, tasks, scores, agents, seed=0)
    assert full is not None and held_out is not None and len(held_out) == len(train)
    in_sample = full.expected([texts[0]], [["calc", "atlas"]])[0]
    assert held_out[0][0] > held_out[0][1]  # calc expected to beat atlas
    assert held_out[0][0] - held_out[0][1] > in_sample[0] - in_sample[1]
    assert cross_fitted(texts, [None] * len(texts), scores, agents) == (None, None)


def test_gnn_learns_a_task_prior_from_labelled_examples_and_saves_it(tmp_path: Path) -> None:
    train, test = rows(120), rows(20, start=2000)
    agents = [AgentSpec(name=a) for a in ("calc", "atlas", "guess")]
    fold = build_fold([routing_view(r, r.qid) for r in train], test, agents, make_embedder("hashing", dim=32))
    assert [ex.task for ex in fold.examples] == [r.dataset for r in train]  # labels reach training ...
    assert all(not g.query.meta for g in fold.graphs)  # ... and nothing of them reaches routing
    fast = {"hidden": 16, "epochs": 5, "ensemble": 1, "device": "cpu"}
    router = GNNRouter(seed=0, **fast).fit(fold.examples)
    assert router.task_prior is not None and router.n_evidence == len(EVIDENCE_FEATURES)
    probs = router.predict_proba(fold.graphs)
    loaded = GNNRouter.load(router.save(tmp_path / "gnn.pt"), device="cpu")
    assert loaded.task_prior is not None and loaded.predict_proba(fold.graphs) == probs
    expected = router.task_prior.expected([g.query.text for g in fold.graphs], [g.agent_names for g in fold.graphs])
    for d, g, e in zip(router.route_many(fold.graphs), fold.graphs, expected, strict=True):
        assert d.reliability == pytest.approx(dict(zip(g.agent_names, e.tolist())))  # what the vote weighs

    # the prior's weights are stored as tensors (as lists they made big checkpoints slow to hash and load);
    # a checkpoint from before, with the weights as nested lists, still loads and routes the same
    body = load_checkpoint(tmp_path / "gnn.pt")
    assert all(isinstance(body["task_prior"][k], torch.Tensor) for k in ("term_weights", "surface_weights", "bias"))
    for key in ("table", "term_weights", "surface_weights", "bias"):
        body["task_prior"][key] = body["task_prior"][key].tolist()
    save_checkpoint(tmp_path / "lists.pt", body)
    assert GNNRouter.load(tmp_path / "lists.pt", device="cpu").predict_proba(fold.graphs) == probs

    unlabelled = [ex.__class__(graph=ex.graph, scores=ex.scores, costs=ex.costs) for ex in fold.examples]
    plain = GNNRouter(seed=0, **fast).fit(unlabelled)
    off = GNNRouter(seed=0, tasks=False, **fast).fit(fold.examples)
    for r in (plain, off):  # no prior: the evidence is exactly the columns before the task prior existed
        assert r.task_prior is None and r.n_evidence == EVIDENCE_FEATURES.index("task_score")
        again = GNNRouter.load(r.save(tmp_path / "plain.pt"), device="cpu")
        assert again.n_evidence == r.n_evidence and again.predict_proba(fold.graphs) == r.predict_proba(fold.graphs)
        assert all(d.reliability == {} for d in r.route_many(fold.graphs))  # the vote weighs probabilities


def per_task_fold(train: list[RunRecord], test: list[RunRecord]):
    """A replay fold over the three agents of ``rows`` (training labels kept, test questions bare)."""
    agents = [AgentSpec(name=a) for a in ("calc", "atlas", "guess")]
    return build_fold([routing_view(r, r.qid) for r in train], test, agents, make_embedder("hashing", dim=32))


def test_per_task_router_sends_each_question_to_its_tasks_best_agent() -> None:
    assert router_info("per-task").guarded and router_info("per-task").baseline
    report = run_replay_benchmark(rows(160), folds=2, routers=["per-task", "best-single"])
    per_task, best = report.result("per-task"), report.result("best-single")
    assert per_task.accuracy == 1.0 and best.accuracy < 0.6  # best single: one task's expert
    assert "fallback" not in (per_task.guard or "")

    test = rows(10, start=3000)
    fold = per_task_fold(rows(120), test)
    router = make_router("per-task", guard=False).fit(fold.examples)
    for d, r in zip(router.route_many(fold.graphs), test, strict=True):
        assert d.selected == ["calc" if r.dataset == "arith" else "atlas"]
        assert d.reliability[d.selected[0]] > 0.9 > 0.1 > d.reliability["guess"]  # what a vote would weigh
        assert "recognised task" in (d.rationale or "")


def test_per_task_router_without_task_labels_is_best_single() -> None:
    train = [r.model_copy(update={"dataset": None}) for r in rows(60)]
    train[1].agents["calc"] = AgentRecord(score=1.0, pred="calc")  # a geography question calc got right too
    fold = per_task_fold(train, rows(6, start=4000))
    router = make_router("per-task", guard=False).fit(fold.examples)
    best = make_router("best-single").fit(fold.examples)
    for d, b in zip(router.route_many(fold.graphs), best.route_many(fold.graphs), strict=True):
        assert d.selected == b.selected == ["calc"]
        assert "no task labels" in (d.rationale or "")
