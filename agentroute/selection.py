"""Answer-aware selection: a learned second stage that reads the called agents' answers.

Why: a probability-weighted vote only knows how much the router trusted each agent *before* it answered.
Once answers are in, more is known: whether the agents agree, whether an answer has the shape the
question asks for (a number, yes/no, an option letter, a name), and how each agent did on the question's
similar past questions. ``AnswerSelector`` turns these into P(this answer is right) with a small logistic
regression, fitted on questions the router did not train on (the do-no-harm guard's held-out split), and
uses it twice: the final answer is the most probable one, and the next agent is called only while the best
answer's probability is below a threshold. The threshold is picked on the same held-out questions, as the
most accurate one that calls no more agents per question than the plain early-stopping vote (or a given
``calls`` budget). First, do no harm: the selector is *adopted* only if, on those held-out questions
(each scored by a model fitted without it), it beats the plain vote by more than a paired standard error.

``AnswerAware`` is the aggregator (``"answer-aware"``, the replay benchmark's default). Without an adopted
selector — not adopted, a log without predictions, too few held-out questions, a router with no held-out
split — it is exactly its base aggregator (``weighted-vote`` and its waves), and decisions without
``early_stop`` (one-agent routers) are never extended.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agentroute.aggregate import Aggregator, WeightedVote
from agentroute.answers import has_options
from agentroute.normalize import normalize_answer
from agentroute.routers.fallback import KeepsHeldOut, paired_gain
from agentroute.types import AgentResult, Answer, Query, QueryGraph, RoutingDecision, RunRecord, TrainExample

_YESNO = frozenset({"yes", "no", "true", "false"})
_AUX = re.compile(
    r"^\s*(is|are|was|were|do|does|did|can|could|will|would|should|has|have|had|am|may|might|must|shall)\b",
    re.IGNORECASE,
)
_HOW_MUCH = re.compile(
    r"\b(how (many|much|long|old|far|tall|big|fast)|what (number|percent|percentage)|calculate|compute|"
    r"sum of|total|average)\b|\d\s*[-+*/×÷^]\s*\d",
    re.IGNORECASE,
)
_CHOICE = re.compile(r"^\(?[a-e]\)?$", re.IGNORECASE)
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")

#: answer shapes, and the shape a question asks for
KINDS = ("empty", "yesno", "choice", "number", "text", "long")
FEATURES = (
    "share",
    "mass",
    "top_prob",
    "agree_frac",
    "agree",
    "called",
    "unanimous",
    "history",
    "dissent_history",
    "kind_fit",
    "agent_fit",
    "pending_mass",
    "overlap",
    "length",
)
#: an answer of more words than this is "long" (a sentence rather than a short answer)
LONG = 4


def answer_kind(answer: str | None) -> str:
    """The answer's shape: empty, yes/no, an option letter, a number, short text or long text."""
    raw = (answer or "").strip()
    key = normalize_answer(raw)
    if not key:
        return "empty"
    if key in _YESNO:
        return "yesno"
    if _CHOICE.match(raw):
        return "choice"
    if _NUMERIC.match(key.replace(" ", "")):
        return "number"
    return "long" if len(key.split()) > LONG else "text"


def question_kind(question: str) -> str:
    """The shape of answer the question asks for (lettered options, yes/no, a quantity, else text)."""
    if has_options(question):
        return "choice"
    if _AUX.match(question):
        return "yesno"
    if _HOW_MUCH.search(question):
        return "number"
    return "text"


def agent_history(graph: QueryGraph, shrink: float = 1.0) -> dict[str, float]:
    """Each agent's similarity-weighted mean score on the question's similar past questions, shrunk toward
    0.5 by ``shrink`` pseudo-questions (an agent with no such history gets 0.5)."""
    sums: dict[str, float] = {}
    weights: dict[str, float] = {}
    for past in graph.similar:
        w = max(float(past.similarity), 0.0)
        for agent, score in past.scores.items():
            sums[agent] = sums.get(agent, 0.0) + w * float(score)
            weights[agent] = weights.get(agent, 0.0) + w
    return {a.name: (sums.get(a.name, 0.0) + 0.5 * shrink) / (weights.get(a.name, 0.0) + shrink) for a in graph.agents}


def queue(decision: RoutingDecision) -> list[str]:
    """The order agents are called in: the router's selection, then its other candidates by probability."""
    rest = sorted((a for a in decision.probs if a not in decision.selected), key=lambda a: -decision.probs[a])
    return list(dict.fromkeys([*decision.selected, *rest]))


@dataclass
class _Group:
    key: str
    agents: list[str]
    answer: str


def _groups(results: Sequence[AgentResult]) -> list[_Group]:
    groups: dict[str, _Group] = {}
    for r in results:
        key = normalize_answer(r.answer) if r.ok else ""
        if not key:
            continue
        g = groups.setdefault(key, _Group(key, [], str(r.answer)))
        g.agents.append(r.agent)
    return list(groups.values())


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


@dataclass
class AnswerSelector:
    """A fitted P(answer correct) model, the stopping threshold, and the answer-shape table it uses."""

    weights: list[float] = field(default_factory=list)  # one per FEATURES entry, then the intercept
    mean: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    #: accuracy by "question kind|answer kind" and by "agent|question kind|answer kind"
    kind_fit: dict[str, float] = field(default_factory=dict)
    threshold: float = 1.0
    budget: float | None = None  # calls per question the threshold was chosen under
    n_train: int = 0
    #: held-out accuracy gain over the plain early-stopping vote, the gain required, and the verdict
    gain: float | None = None
    needed: float | None = None
    adopted: bool = True
    note: str = ""

    # -- features ------------------------------------------------------------------------------------
    def features(
        self, question: str, decision: RoutingDecision, results: Sequence[AgentResult], pending: Sequence[str]
    ) -> tuple[list[_Group], np.ndarray]:
        """The answer groups among ``results`` and one feature row per group."""
        groups = _groups(results)
        return groups, np.asarray([_row(self.kind_fit, question, decision, results, pending, g) for g in groups])

    def confidence(
        self, question: str, decision: RoutingDecision, results: Sequence[AgentResult], pending: Sequence[str]
    ) -> tuple[list[_Group], np.ndarray]:
        groups, x = self.features(question, decision, results, pending)
        if not groups:
            return groups, np.zeros(0)
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        w = np.asarray(self.weights)
        return groups, 1.0 / (1.0 + np.exp(-(z @ w[:-1] + w[-1])))

    # -- persistence ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnswerSelector:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> AnswerSelector:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _row(
    kind_fit: Mapping[str, float],
    question: str,
    decision: RoutingDecision,
    results: Sequence[AgentResult],
    pending: Sequence[str],
    group: _Group,
) -> list[float]:
    probs, history = decision.probs, decision.history
    called = [r.agent for r in results]
    called_mass = sum(probs.get(a, 0.0) for a in called) or 1e-9
    mass = sum(probs.get(a, 0.0) for a in group.agents)
    others = [a for a in called if a not in group.agents]
    kinds = f"{question_kind(question)}|{answer_kind(group.answer)}"
    fit = kind_fit.get(kinds, 0.5)
    agent_fit = max(kind_fit.get(f"{a}|{kinds}", fit) for a in group.agents)
    return [
        mass / called_mass,
        mass,
        max(probs.get(a, 0.0) for a in group.agents),
        len(group.agents) / max(len(called), 1),
        float(len(group.agents)),
        float(len(called)),
        float(len(group.agents) == len(called)),
        _logit(max(history.get(a, 0.5) for a in group.agents)),
        _logit(max((history.get(a, 0.5) for a in others), default=0.5)),
        _logit(fit),
        _logit(agent_fit),
        sum(probs.get(a, 0.0) for a in pending),
        _overlap(question, group.key),
        math.log1p(len(group.key.split())),
    ]


def _overlap(question: str, key: str) -> float:
    """Share of the answer's words that the question already contains (an echo of the question is rarely
    the answer, except for option letters and yes/no)."""
    words = key.split()
    asked = set(normalize_answer(question).split())
    return sum(w in asked for w in words) / max(len(words), 1)


# -- the policy ----------------------------------------------------------------------------------------
def next_agents(
    selector: AnswerSelector, question: str, decision: RoutingDecision, results: Sequence[AgentResult]
) -> list[str]:
    """The next selected agent while the best answer's P(correct) is below the threshold, else []."""
    done = {r.agent for r in results}
    pending = [a for a in dict.fromkeys(decision.selected) if a not in done]
    if not pending:
        return []
    _, conf = selector.confidence(question, decision, results, pending)
    if conf.size and float(conf.max()) >= selector.threshold:
        return []
    return pending[:1]


def pick(
    selector: AnswerSelector, question: str, decision: RoutingDecision, results: Sequence[AgentResult]
) -> tuple[str, dict[str, float]]:
    """The most probable answer (ties: the earlier group) and P(correct) per answer."""
    done = {r.agent for r in results}
    pending = [a for a in dict.fromkeys(decision.selected) if a not in done]
    groups, conf = selector.confidence(question, decision, results, pending)
    if not groups:
        return "", {}
    best = int(np.argmax(conf))
    return groups[best].answer, {g.answer: float(c) for g, c in zip(groups, conf)}


# -- training ------------------------------------------------------------------------------------------
@dataclass
class Sample:
    """One held-out question as the selector trains on it: the router's decision (with ``history``), the
    question, and every candidate agent's recorded answer and score."""

    question: str
    decision: RoutingDecision | None  # None: only the answers are read (answer-shape tables)
    answers: dict[str, str | None]
    scores: dict[str, float]

    @property
    def plan(self) -> RoutingDecision:
        """The decision, for the steps that replay one (answer-shape samples have none)."""
        if self.decision is None:
            raise ValueError(f"no routing decision to replay for {self.question[:60]!r}")
        return self.decision


def _states(s: Sample) -> list[tuple[list[AgentResult], list[str]]]:
    """Every state the policy can reach: the first k agents of the queue called, for k = 1 … all."""
    order = [a for a in dict.fromkeys(s.plan.selected) if a in s.scores]
    res = [AgentResult(agent=a, answer=s.answers.get(a)) for a in order]
    return [(res[:k], order[k:]) for k in range(1, len(order) + 1)]


def _group_score(s: Sample, g: _Group) -> float:
    return max(float(s.scores[a]) for a in g.agents)


def _kind_table(rows: Sequence[Sample], prior: float = 5.0) -> dict[str, float]:
    """Accuracy of each (question kind, answer kind) pair over every agent's answer, smoothed toward the
    overall accuracy with ``prior`` pseudo-answers; and of each agent's answers of that pair
    (``agent|pair``), smoothed toward the pair's."""
    pair_sum: dict[str, float] = {}
    pair_n: dict[str, float] = {}
    agent_sum: dict[tuple[str, str], float] = {}
    agent_n: dict[tuple[str, str], float] = {}
    for s in rows:
        qk = question_kind(s.question)
        for a, score in s.scores.items():
            pair = f"{qk}|{answer_kind(s.answers.get(a))}"
            pair_sum[pair] = pair_sum.get(pair, 0.0) + float(score)
            pair_n[pair] = pair_n.get(pair, 0.0) + 1
            agent_sum[a, pair] = agent_sum.get((a, pair), 0.0) + float(score)
            agent_n[a, pair] = agent_n.get((a, pair), 0.0) + 1
    overall = sum(pair_sum.values()) / max(sum(pair_n.values()), 1.0)
    table = {k: (pair_sum[k] + prior * overall) / (pair_n[k] + prior) for k in pair_sum}
    for (a, pair), total in agent_sum.items():
        table[f"{a}|{pair}"] = (total + prior * table[pair]) / (agent_n[a, pair] + prior)
    return table


def _design(selector: AnswerSelector, samples: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for s in samples:
        for results, pending in _states(s):
            groups, x = selector.features(s.question, s.plan, results, pending)
            xs += list(x)
            ys += [_group_score(s, g) for g in groups]
    return np.asarray(xs, dtype=float).reshape(-1, len(FEATURES)), np.asarray(ys, dtype=float)


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 50) -> np.ndarray:
    """Weights (then intercept) of an L2-regularised logistic regression with soft labels (Newton steps)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.full(xb.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) / len(y) + reg * w
        hess = (xb.T * (p * (1 - p))) @ xb / len(y) + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return w


def _fit_model(selector: AnswerSelector, samples: Sequence[Sample], l2: float) -> AnswerSelector:
    x, y = _design(selector, samples)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    w = _fit_logistic((x - mean) / scale, y, l2)
    return AnswerSelector(
        weights=w.tolist(), mean=mean.tolist(), scale=scale.tolist(), kind_fit=selector.kind_fit, n_train=len(samples)
    )


def trajectory(selector: AnswerSelector, s: Sample) -> tuple[np.ndarray, np.ndarray]:
    """After each of the first k = 1 … all agents of the queue: the best answer's P(correct) (0 when none
    answered), and the recorded score of that answer. The policy with threshold t stops at the first k
    whose confidence reaches t."""
    conf, score = [], []
    for results, pending in _states(s):
        groups, c = selector.confidence(s.question, s.plan, results, pending)
        if not groups:
            conf.append(0.0)
            score.append(0.0)
            continue
        best = int(np.argmax(c))
        conf.append(float(c[best]))
        score.append(_group_score(s, groups[best]))
    return np.asarray(conf), np.asarray(score)


def stop_at(conf: np.ndarray, threshold: float) -> int:
    """Index of the state where the policy stops (the last one when it never reaches ``threshold``)."""
    hit = np.flatnonzero(conf[:-1] >= threshold)
    return int(hit[0]) if hit.size else len(conf) - 1


def _baseline(s: Sample) -> tuple[float, int]:
    """Score and calls of the plain early-stopping weighted vote on this sample (what the selector must beat)."""
    from agentroute.waves import next_wave

    vote = WeightedVote()
    plan = s.plan.model_copy(update={"selected": [a for a in s.plan.selected if a in s.scores]})
    results: list[AgentResult] = []
    while wave := next_wave(plan, vote, results):
        results += [AgentResult(agent=a, answer=s.answers.get(a)) for a in wave]
    key = normalize_answer(vote.aggregate(Query(id="-", text=s.question), plan, results).text)
    score = max((float(s.scores[r.agent]) for r in results if key and normalize_answer(r.answer) == key), default=0.0)
    return score, len(results)


THRESHOLDS = tuple(np.round(np.arange(0.30, 1.0001, 0.025), 3))


def fit_selector(
    samples: Sequence[Sample],
    *,
    calls: float | None = None,
    extend: bool = True,
    answered: Sequence[Sample] = (),
    l2: float = 0.1,
    z: float = 1.0,
    min_samples: int = 50,
    seed: int = 0,
) -> AnswerSelector | None:
    """A selector fitted on held-out ``samples``, or None when they are too few or carry no answers.

    Every held-out question is scored by a model fitted on the other half of them (2-fold cross-fitting).
    The threshold is the most accurate whose mean calls stay within ``calls`` (default: what the plain
    early-stopping vote calls on the same questions); ties go to fewer calls. The selector is ``adopted``
    only if it then beats that vote's accuracy on the same questions by more than ``z`` paired standard
    errors (the same do-no-harm rule as the router's guard). ``extend``: the policy may call the router's
    other candidates too (as ``AnswerAware(extend=True)`` does). ``answered``: more past questions with
    recorded answers (their decisions are not read) for the answer-shape tables.
    """
    kept = [s for s in samples if s.scores and any(normalize_answer(v) for v in s.answers.values())]
    if len(kept) < min_samples:
        return None
    base = np.asarray([_baseline(s) for s in kept], dtype=float)
    budget = float(base[:, 1].mean()) if calls is None else float(calls)
    usable = [Sample(s.question, _queued(s.decision), s.answers, s.scores) if extend else s for s in kept]
    table = AnswerSelector(kind_fit=_kind_table([*usable, *answered]))
    order = np.random.default_rng(seed).permutation(len(usable))
    scores = np.zeros((len(THRESHOLDS), len(usable)))
    spent = np.zeros((len(THRESHOLDS), len(usable)))
    for part, other in ((order[::2], order[1::2]), (order[1::2], order[::2])):
        model = _fit_model(table, [usable[i] for i in other], l2)
        for i in part:
            conf, score = trajectory(model, usable[i])
            for j, t in enumerate(THRESHOLDS):
                k = stop_at(conf, float(t))
                scores[j, i], spent[j, i] = score[k], k + 1
    within = [j for j in range(len(THRESHOLDS)) if spent[j].mean() <= budget + 1e-9] or [0]
    best = max(within, key=lambda j: (round(float(scores[j].mean()), 9), -float(spent[j].mean())))
    gain, needed = paired_gain(scores[best], base[:, 0], z)
    final = _fit_model(table, usable, l2)
    final.threshold = float(THRESHOLDS[best])
    final.budget = budget
    final.gain, final.needed = gain, needed
    final.adopted = gain > needed
    final.note = (
        f"answer-aware selection {'adopted' if final.adopted else 'not adopted'}: on {len(usable)} held-out "
        f"questions {scores[best].mean():.3f} at {spent[best].mean():.2f} calls vs the vote's "
        f"{base[:, 0].mean():.3f} at {base[:, 1].mean():.2f} (gain {gain:+.3f}, needed {needed:.3f})"
    )
    return final


def _queued(decision: RoutingDecision | None) -> RoutingDecision:
    assert decision is not None
    return decision.model_copy(update={"selected": queue(decision)})


def fit_for(
    router: object, examples: Sequence[TrainExample], records: Sequence[RunRecord], **options: Any
) -> AnswerSelector | None:
    """A selector for ``router``, fitted on its do-no-harm guard's held-out training questions (their router
    outputs come from a copy trained without them; their answers from ``records``, matched by id), or None
    when the router keeps no held-out split or picks single agents. ``options`` go to ``fit_selector``."""
    if not isinstance(router, KeepsHeldOut):
        return None
    held = router.held
    if not held.ids or not any(len(sel) > 1 for sel in held.selected):
        return None
    graphs = {ex.graph.query.id: ex.graph for ex in examples}
    by_id = {r.qid: r for r in records}
    held_ids = set(held.ids)
    samples = []
    reliability = held.reliability or [{} for _ in held.ids]
    for qid, probs, selected, sure in zip(held.ids, held.probs, held.selected, reliability, strict=True):
        graph, record = graphs.get(qid), by_id.get(qid)
        if graph is None or record is None:
            continue
        decision = RoutingDecision(
            router=router.name,
            probs=probs,
            selected=selected,
            early_stop=True,
            history=agent_history(graph),
            reliability=sure,
        )
        samples.append(Sample(record.question, decision, _answers(record), record.scores()))
    others = [Sample(r.question, None, _answers(r), r.scores()) for r in records if r.qid not in held_ids]
    return fit_selector(samples, answered=others, **options)


def _answers(record: RunRecord) -> dict[str, str | None]:
    return {a: c.pred for a, c in record.agents.items()}


# -- the aggregator ------------------------------------------------------------------------------------
class AnswerAware:
    """Aggregator that, once fitted, picks the most probable answer and decides when to stop calling.

    ``selector``: a fitted ``AnswerSelector`` (or a path to one saved with ``save``). It is used only when
    it was ``adopted`` (it beat the plain vote on held-out questions) or ``force`` is set; otherwise, and
    without a selector, this is exactly ``base`` (the weighted vote with its early stopping). Decisions
    without ``early_stop`` (one-agent routers) are never extended. ``extend``: an early-stopping decision
    may go on to the router's other candidates, by probability, while the answer is unsure.
    """

    name = "answer-aware"

    def __init__(
        self,
        selector: AnswerSelector | str | Path | None = None,
        base: Aggregator | None = None,
        extend: bool = True,
        force: bool = False,
    ) -> None:
        if isinstance(selector, (str, Path)):
            selector = AnswerSelector.load(selector)
        self.selector = selector
        self.base = base or WeightedVote()
        self.extend = extend
        self.force = force

    @property
    def active(self) -> bool:
        return self.selector is not None and (self.selector.adopted or self.force)

    def with_selector(self, selector: AnswerSelector | None) -> AnswerAware:
        """A copy using ``selector`` (e.g. one fitted per router)."""
        return AnswerAware(selector, self.base, self.extend, self.force)

    def prepare(self, decision: RoutingDecision, graph: QueryGraph) -> RoutingDecision:
        """The decision with each agent's history near the question (what the selector reads); an
        early-stopping one may also call the router's other candidates, by probability, while unsure."""
        if not self.active or decision.answer is not None or not decision.early_stop:
            return decision
        assert self.selector is not None
        why = f"answer-aware: stop once an answer's P(correct) ≥ {self.selector.threshold:g}"
        update: dict[str, Any] = {
            "history": agent_history(graph),
            "rationale": f"{decision.rationale} | {why}" if decision.rationale else why,
        }
        if self.extend:
            update["selected"] = queue(decision)
        return decision.model_copy(update=update)

    def plan(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> list[str] | None:
        """The next agent to call ([] to stop), or None to leave it to the plain waves (not prepared)."""
        if not self.active or not decision.early_stop or not decision.history:
            return None
        assert self.selector is not None
        return next_agents(self.selector, query.text, decision, results)

    def settled(self, decision: RoutingDecision, results: Sequence[AgentResult], pending: Sequence[str]) -> bool:
        return self.base.settled(decision, results, pending)  # type: ignore[attr-defined]

    def aggregate(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer:
        if not self.active or not decision.history:
            return self.base.aggregate(query, decision, results)
        assert self.selector is not None
        text, support = pick(self.selector, query.text, decision, results)
        if not text:
            return self.base.aggregate(query, decision, results)
        return Answer(text=text, decision=decision, results=list(results), support=support)
