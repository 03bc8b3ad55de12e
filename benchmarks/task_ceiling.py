"""How far can routing that only knows each question's task go? A ceiling, read from the test rows themselves.

    python benchmarks/task_ceiling.py                       # MoRE (12 datasets x 4 experts)
    python benchmarks/task_ceiling.py --folds 5             # + the same choice made on the other folds
    python benchmarks/task_ceiling.py --log ../shared/data/routing_logs/llmrouter_9llm/unified_test.jsonl \
        --train ../shared/data/routing_logs/llmrouter_9llm/unified_train.jsonl   # the rows bench run scores
    # + the task classifier's L2, chosen on training and scored on the test rows:
    python benchmarks/task_ceiling.py --log …/unified_test.jsonl --train …/unified_train.jsonl --classifier-l2 0.1,1,10

For every task (the log's ``dataset`` field) it picks, with hindsight on the very rows it is scored on, the
best single agent and the best set of k agents answered by a vote weighted by each agent's accuracy on that
task. A router that recognised every question's task perfectly, and read nothing else in it, cannot beat
these numbers on this log; one that beats them has found signal inside the tasks. Use it to tell a weak
router from a target that sits at (or above) what the task alone can give. Rows without predictions can
only be scored for single agents. ``--folds k`` also makes the choice without hindsight: per task, the best
set (of any size) on the other folds of ``bench run --folds k``, scored on the held-out fold, still with the
true task labels (a router has to recognise the task from the question, so it sits below this too). With
``--folds`` it also asks whether there is signal *inside* the tasks, still knowing each question's task:
in the answers (every agent called; the agent whose answer was right most often, on the other folds, when the
agents' answers agreed in the same pattern on the same task) and in the question's words (the agent best on
the question's nearest neighbours within its task, by the default embedder).
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from agentroute.aggregate import make_aggregator
from agentroute.bench.logs import drop_overlap, read_routing_log
from agentroute.bench.metrics import answer_score
from agentroute.bench.replay import make_folds
from agentroute.kg.embed import make_embedder
from agentroute.normalize import normalize_answer
from agentroute.types import AgentResult, Query, RoutingDecision, RunRecord

VOTE = make_aggregator("weighted-vote")
MORE = Path("../shared/data/routing_logs/more_reasoning_experts/unified_test.jsonl")


def vote_score(row: RunRecord, agents: tuple[str, ...], weight: dict[str, float]) -> float:
    """What ``bench run`` scores when ``agents`` answer ``row`` and the weighted vote (weights: each agent's
    accuracy on the task) merges them: the project's own aggregator and answer scoring."""
    decision = RoutingDecision(router="task", probs={a: weight[a] for a in agents}, selected=list(agents))
    ran = [a for a in agents if a in row.agents]
    results = [AgentResult(agent=a, answer=row.agents[a].pred, score=row.agents[a].score) for a in ran]
    answer = VOTE.aggregate(Query(id=row.qid, text=row.question), decision, results)
    return answer_score(answer.text, ran, decision, row)


def task_best_from(train: list[RunRecord], rows: list[RunRecord]) -> float:
    """Accuracy on ``rows`` of the agent that was best on each task in ``train`` (what task labels alone buy)."""
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in train:
        for a, s in r.scores().items():
            sums[(r.dataset or "(none)", a)].append(s)
    best: dict[str, tuple[float, str]] = {}
    for (task, a), scores in sums.items():
        best[task] = max(best.get(task, (-1.0, "")), (float(np.mean(scores)), a))
    return float(np.mean([r.scores().get(best[r.dataset or "(none)"][1], 0.0) for r in rows]))


def best_set(rows: list[RunRecord], agents: list[str], sizes: range) -> tuple[tuple[str, ...], dict[str, float]]:
    """The set whose accuracy-weighted vote scores best on ``rows`` (ties: fewer agents), and the weights."""
    weight = {a: float(np.mean([r.scores().get(a, 0.0) for r in rows])) for a in agents}
    sets = [s for k in sizes for s in itertools.combinations(agents, k)]
    chosen = max(sets, key=lambda s: (round(float(np.mean([vote_score(r, s, weight) for r in rows])), 12), -len(s)))
    return chosen, weight


def task_sets_by_fold(
    rows: list[RunRecord], agents: list[str], sizes: range, folds: int, recognised: bool = False
) -> tuple[float, float]:
    """(accuracy, calls per question) when each task's best set is chosen on the other folds (no hindsight);
    ``recognised``: each test question gets the set of the task the GNN's task classifier (``TaskPrior``,
    fitted on the other folds) reads in its words, instead of its true task's."""
    from agentroute.routers.task_prior import TaskPrior

    fold_of = make_folds([r.question for r in rows], folds)
    scores, calls = [], []
    for k in range(folds):
        train = [r for r, f in zip(rows, fold_of, strict=True) if f != k]
        test = [r for r, f in zip(rows, fold_of, strict=True) if f == k]
        chosen = {
            task: best_set([r for r in train if (r.dataset or "(none)") == task], agents, sizes)
            for task in sorted({r.dataset or "(none)" for r in train})
        }
        tasks = [r.dataset or "(none)" for r in test]
        if recognised:
            texts, labels = [r.question for r in train], [r.dataset or "(none)" for r in train]
            prior = TaskPrior.fit(texts, labels, [r.scores() for r in train])
            if prior is not None:
                tasks = [prior.tasks[int(p.argmax())] for p in prior.task_probs([r.question for r in test])]
        for r, task in zip(test, tasks, strict=True):
            agents_of_set, weight = chosen[task]
            scores.append(vote_score(r, agents_of_set, weight))
            calls.append(len(agents_of_set))
    return float(np.mean(scores)), float(np.mean(calls))


def answer_pattern(row: RunRecord, agents: list[str]) -> tuple[int, ...]:
    """Which agents agreed: each agent's answer as the index of its first occurrence among the distinct
    normalised answers (all agree: (0, 0, 0, 0); two pairs: e.g. (0, 1, 0, 1))."""
    seen: dict[str, int] = {}
    return tuple(seen.setdefault(normalize_answer(row.agents[a].pred), len(seen)) for a in agents)


def _shrunk(stats: dict[tuple, list[float]], key: tuple, prior: float, weight: float) -> float:
    """The rate of right answers counted under ``key``, with ``weight`` pseudo-answers right at ``prior``."""
    right, seen = stats.get(key, (0.0, 0.0))
    return (right + weight * prior) / (seen + weight)


def answer_patterns_by_fold(rows: list[RunRecord], agents: list[str], folds: int) -> float:
    """Accuracy with every agent called and the answer of the agent most often right, on the other folds, for
    the same task and agreement pattern: that rate shrunk (weight 5) toward the agent's rate for the pattern
    over all tasks, itself shrunk (weight 20) toward the agent's accuracy on the task. (Other weights from 2
    to 20 moved MoRE's figure by at most 0.005.)"""
    fold_of = make_folds([r.question for r in rows], folds)
    scored: list[float] = []
    for k in range(folds):
        stats: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for r, f in zip(rows, fold_of, strict=True):
            if f == k:
                continue
            task, pattern = r.dataset or "(none)", answer_pattern(r, agents)
            for a, s in r.scores().items():
                for key in ((task, a), (pattern, a), (task, pattern, a)):
                    stats[key][0] += s
                    stats[key][1] += 1

        for r, f in zip(rows, fold_of, strict=True):
            if f != k:
                continue
            task, pattern = r.dataset or "(none)", answer_pattern(r, agents)
            estimate = {}
            for a in agents:
                across_tasks = _shrunk(stats, (pattern, a), _shrunk(stats, (task, a), 0, 0), 20)
                estimate[a] = _shrunk(stats, (task, pattern, a), across_tasks, 5)
            scored.append(r.scores().get(max(agents, key=estimate.__getitem__), 0.0))
    return float(np.mean(scored))


def neighbours_by_fold(rows: list[RunRecord], agents: list[str], folds: int, k: int = 25) -> float:
    """Accuracy when each question goes to the agent best on its ``k`` nearest training questions of the same
    task (cosine, default embedder), shrunk (weight 20) toward the agent's accuracy on the whole task."""
    fold_of = np.asarray(make_folds([r.question for r in rows], folds))
    vectors = make_embedder("hashing").embed([r.question for r in rows])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    scores = np.array([[r.scores().get(a, 0.0) for a in agents] for r in rows])
    tasks = np.array([r.dataset or "(none)" for r in rows])
    total = 0.0
    for task in sorted(set(tasks)):
        for fold in range(folds):
            train = np.flatnonzero((tasks == task) & (fold_of != fold))
            test = np.flatnonzero((tasks == task) & (fold_of == fold))
            if not len(train) or not len(test):
                continue
            near = np.argsort(-(vectors[test] @ vectors[train].T), axis=1)[:, :k]
            estimate = scores[train][near].sum(axis=1) + 20 * scores[train].mean(axis=0)
            total += scores[test, estimate.argmax(axis=1)].sum()
    return total / len(rows)


def classifier_sweep(train: list[RunRecord], rows: list[RunRecord], l2s: list[float], folds: int = 5) -> Table:
    """With ``--train``: for each L2 of the GNN's task classifier (``TaskPrior``), how often it recognises the
    task in 5-fold cross-validation on the training log (the only honest way to choose it), how often on the
    test rows, and what routing each test question to the agent with the best expected score on its
    recognised task scores there. When the test rows hold fewer tasks than training, a classifier that
    commits less to tasks the test lacks can score better on them while recognising fewer: this shows it."""
    from agentroute.routers.task_prior import TaskPrior

    train = [r for r in train if r.scores() and r.dataset]
    texts, tasks, scores = [r.question for r in train], [r.dataset for r in train], [r.scores() for r in train]
    fold_of = np.random.default_rng(0).permutation(len(train)) % folds
    table = Table(title="the task classifier's L2: chosen on training, scored on the test rows")
    for h in ("L2", f"{folds}-fold CV recognition (train)", "test recognition", "per-task routing (test)"):
        table.add_column(h)
    for l2 in l2s:
        right = 0
        for k in range(folds):
            kept, held = np.flatnonzero(fold_of != k).tolist(), np.flatnonzero(fold_of == k).tolist()
            prior = TaskPrior.fit([texts[i] for i in kept], [tasks[i] for i in kept], [scores[i] for i in kept], l2=l2)
            assert prior is not None
            guess = prior.task_probs([texts[i] for i in held]).argmax(axis=1)
            right += sum(prior.tasks[g] == tasks[i] for g, i in zip(guess, held, strict=True))
        prior = TaskPrior.fit(texts, tasks, scores, l2=l2)
        assert prior is not None
        probs = prior.task_probs([r.question for r in rows])
        recognised = np.mean([prior.tasks[g] == r.dataset for g, r in zip(probs.argmax(axis=1), rows, strict=True)])
        expected = probs @ prior.table
        routed = np.mean(
            [r.scores().get(prior.agents[int(e.argmax())], 0.0) for e, r in zip(expected, rows, strict=True)]
        )
        table.add_row(f"{l2:g}", f"{right / len(train):.3f}", f"{recognised:.3f}", f"{routed:.3f}")
    missing = sorted(set(tasks) - {r.dataset for r in rows})
    table.caption = f"{len(set(tasks))} tasks in training; absent from the test rows: {', '.join(missing) or 'none'}"
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--log", type=Path, default=MORE)
    p.add_argument("--train", type=Path, default=None, help="drop test questions also here (as bench run does)")
    p.add_argument("--max-set", type=int, default=4, help="largest set size tried per task")
    p.add_argument("--folds", type=int, default=0, help="also choose each task's set on the other k folds")
    p.add_argument("--classifier-l2", default="", help="with --train: comma-separated L2s of the task classifier")
    args = p.parse_args(argv)
    if not args.log.exists():
        Console(stderr=True).print(f"skipped: {args.log} not found")
        return 0
    rows = [r for r in read_routing_log(args.log) if r.scores()]
    train = read_routing_log(args.train) if args.train is not None else []
    rows = drop_overlap(rows, train)[0]
    agents = sorted({a for r in rows for a in r.scores()})
    has_preds = all(c.pred is not None for r in rows for c in r.agents.values() if c.score is not None)
    by_task: dict[str, list[RunRecord]] = defaultdict(list)
    for r in rows:
        by_task[r.dataset or "(none)"].append(r)
    sizes = range(1, (min(args.max_set, len(agents)) if has_preds else 1) + 1)
    table = Table(title=f"task-level ceiling on {args.log.name}: {len(rows)} rows, {len(by_task)} tasks")
    for h in ("task", "n", *(f"best set of {k}" for k in sizes), "best of any size"):
        table.add_column(h)
    total = {k: 0.0 for k in sizes}
    any_size = [0.0, 0.0]  # score sum, calls sum
    for task, task_rows in sorted(by_task.items()):
        weight = {a: float(np.mean([r.scores().get(a, 0.0) for r in task_rows])) for a in agents}
        best: dict[int, tuple[float, tuple[str, ...]]] = {}
        for k in sizes:
            best[k] = max(
                (float(np.mean([vote_score(r, s, weight) for r in task_rows])), s)
                for s in itertools.combinations(agents, k)
            )
            total[k] += best[k][0] * len(task_rows)
        k_any = max(sizes, key=lambda k: (round(best[k][0], 12), -k))
        any_size[0] += best[k_any][0] * len(task_rows)
        any_size[1] += k_any * len(task_rows)
        cells = [f"{best[k][0]:.3f} {'+'.join(best[k][1]) if k == 1 else ''}".strip() for k in sizes]
        table.add_row(task, str(len(task_rows)), *cells, f"{best[k_any][0]:.3f} ({k_any} calls)")
    n = len(rows)
    overall = [max(np.mean([r.scores().get(a, 0.0) for r in rows]) for a in agents)]
    table.add_row(
        "all tasks", str(n), *(f"{total[k] / n:.3f}" for k in sizes),
        f"{any_size[0] / n:.3f} ({any_size[1] / n:.2f} calls)", style="bold",
    )  # fmt: skip
    table.caption = f"best single agent overall {overall[0]:.3f}; oracle " + (
        f"{np.mean([max(r.scores().values()) for r in rows]):.3f}"
    )
    if train:
        table.caption += f"; best agent per task chosen on --train (no hindsight): {task_best_from(train, rows):.3f}"
    if args.folds > 1:
        acc, calls = task_sets_by_fold(rows, agents, range(1, max(sizes) + 1), args.folds)
        read, read_calls = task_sets_by_fold(rows, agents, range(1, max(sizes) + 1), args.folds, recognised=True)
        table.caption += (
            f"; best set per task chosen on the other {args.folds} folds (true task labels, no hindsight): "
            f"{acc:.3f} at {calls:.2f} calls, and with the task the GNN's classifier reads in the question instead: "
            f"{read:.3f} at {read_calls:.2f} calls; signal inside the tasks (true task labels, other folds): "
            f"the question's 25 nearest neighbours in its task {neighbours_by_fold(rows, agents, args.folds):.3f} "
            "(1 call)"
        )
        if has_preds:
            table.caption += (
                f", the agents' agreement pattern in its task {answer_patterns_by_fold(rows, agents, args.folds):.3f} "
                f"({len(agents)} calls)"
            )
    Console(width=160).print(table)
    if train and args.classifier_l2:
        Console(width=160).print(classifier_sweep(train, rows, [float(x) for x in args.classifier_l2.split(",")]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
