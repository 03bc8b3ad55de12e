"""Answer-aware selection: answer shapes, the learned P(correct), the stop decision, and its fallbacks."""

from __future__ import annotations

import random
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import CountingAgents


from agentroute import AgentRoute, Query, agent
from agentroute.aggregate import WeightedVote, make_aggregator
from agentroute.bench.recorded import replay_question
from agentroute.bench.replay import build_fold, routing_view
from agentroute.kg.embed import make_embedder
from agentroute.routers.base import BaseRouter
from agentroute.routers.fallback import HeldOut
from agentroute.selection import (
    FEATURES,
    AnswerAware,
    AnswerSelector,
    Sample,
    answer_kind,
    fit_for,
    fit_selector,
    question_kind,
    stop_at,
    trajectory,
)
from agentroute.testing.routing_log import synthetic_routing_log
from agentroute.types import AgentRecord, AgentResult, AgentSpec, QueryGraph, RoutingDecision, RunRecord
from agentroute.waves import next_wave

AGENTS = ("a", "b", "c")


def test_answer_and_question_kinds() -> None:
    assert [answer_kind(x) for x in ("", "Yes", "(B)", "1,200", "Paris", "it was built in the year")] == [
        "empty",
        "yesno",
        "choice",
        "number",
        "text",
        "long",
    ]
    assert question_kind("Which is red?\nA) apple\nB) sky") == "choice"
    assert question_kind("Is Paris in France?") == "yesno"
    assert question_kind("How many legs does a spider have?") == "number"
    assert question_kind("Who wrote Hamlet?") == "text"


def _sample(rng: random.Random) -> Sample:
    """A "how many" question; each agent is right 60% of the time, and when wrong mostly answers with a
    word. The vote cannot see that a word is a poor answer to "how many"; the answers' shapes show it."""
    gold = str(rng.randint(100, 999))
    answers: dict[str, str | None] = {}
    for a in AGENTS:
        wrong = rng.choice(["several", "unknown", "many"]) if rng.random() < 0.7 else str(rng.randint(1000, 9999))
        answers[a] = gold if rng.random() < 0.6 else wrong
    scores = {a: float(answers[a] == gold) for a in AGENTS}
    probs = {"a": 0.4, "b": 0.35, "c": 0.25}
    decision = RoutingDecision(router="t", probs=probs, selected=list(AGENTS), early_stop=True, history={})
    return Sample("How many pages does it have?", decision, answers, scores)


def _samples(n: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    return [_sample(rng) for _ in range(n)]


def test_agreement_makes_an_answer_more_probable() -> None:
    sel = fit_selector(_samples(400, 0))
    assert sel is not None
    d = _samples(1, 1)[0].decision
    both = [AgentResult(agent="a", answer="7"), AgentResult(agent="b", answer="7")]
    split = [AgentResult(agent="a", answer="7"), AgentResult(agent="b", answer="8")]
    _, agree = sel.confidence("How many?", d, both, ["c"])
    _, disagree = sel.confidence("How many?", d, split, ["c"])
    assert agree.max() > disagree.max()


def test_the_policy_beats_the_vote_for_no_more_calls() -> None:
    sel = fit_selector(_samples(400, 0))
    assert sel is not None and sel.budget is not None
    test = _samples(300, 2)
    vote = WeightedVote()
    mine, calls, theirs, their_calls = [], [], [], []
    for s in test:
        conf, score = trajectory(sel, s)
        k = stop_at(conf, sel.threshold)
        mine.append(score[k])
        calls.append(k + 1)
        results: list[AgentResult] = []
        while wave := next_wave(s.decision, vote, results):
            results += [AgentResult(agent=a, answer=s.answers[a]) for a in wave]
        text = vote.aggregate(Query(id="q", text=s.question), s.decision, results).text
        theirs.append(max((s.scores[r.agent] for r in results if r.answer == text), default=0.0))
        their_calls.append(len(results))
    assert sum(calls) <= sum(their_calls) * 1.05
    assert sum(mine) > sum(theirs)


def test_no_answers_or_too_few_questions_give_no_selector() -> None:
    scores_only = [Sample(s.question, s.decision, {a: None for a in AGENTS}, s.scores) for s in _samples(200, 0)]
    assert fit_selector(scores_only) is None
    assert fit_selector(_samples(10, 0)) is None


def test_without_a_selector_it_is_the_weighted_vote() -> None:
    plain, aware = WeightedVote(), AnswerAware()
    q = Query(id="q", text="How many?")
    d = RoutingDecision(router="t", probs={"a": 0.5, "b": 0.3, "c": 0.2}, selected=["a", "b", "c"], early_stop=True)
    for results in (
        [],
        [AgentResult(agent="a", answer="4")],
        [AgentResult(agent="a", answer="4"), AgentResult(agent="b", answer="5")],
    ):
        assert next_wave(d, aware, results, q) == next_wave(d, plain, results)
        assert aware.aggregate(q, d, results).text == plain.aggregate(q, d, results).text
    assert make_aggregator("answer-aware").selector is None


def _kind_selector(threshold: float) -> AnswerSelector:
    """A hand-set selector: P(correct) rises only with how well the answer's shape fits the question."""
    n = len(FEATURES)
    weights = [0.0] * n + [0.0]
    weights[FEATURES.index("kind_fit")] = 3.0
    return AnswerSelector(
        weights=weights,
        mean=[0.0] * n,
        scale=[1.0] * n,
        threshold=threshold,
        kind_fit={"number|number": 0.9, "number|text": 0.1},
    )


class Fixed(BaseRouter):
    name = "fixed"

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        probs = {"a": 0.6, "b": 0.3, "c": 0.1}
        return RoutingDecision(router=self.name, probs=probs, selected=["a", "b"], early_stop=True)


def test_live_pipeline_reads_the_question_and_answers_before_calling_more(counting_agents: CountingAgents) -> None:
    calls: Counter[str] = Counter()
    answers = {"a": "four", "b": "4", "c": "5"}
    with AgentRoute(counting_agents(answers, calls), Fixed(), aggregator=AnswerAware(_kind_selector(0.8))) as ar:
        ans = ar.ask("How many legs does a dog have?")
    # a's word does not fit a "how many" question, so b is called; its number fits, so c never is
    assert ans.text == "4" and set(calls) == {"a", "b"}
    assert ans.decision.history and set(ans.decision.selected) == {"a", "b", "c"}

    calls.clear()
    with AgentRoute(
        counting_agents({"a": "4", "b": "4", "c": "5"}, calls), Fixed(), aggregator=AnswerAware(_kind_selector(0.8))
    ) as ar:
        assert ar.ask("How many legs does a dog have?").text == "4"
    assert set(calls) == {"a"}  # the first answer already fits: one call


class HeldRouter(BaseRouter):
    """Stands in for a guarded set router: its held-out split is given."""

    name = "held"

    def __init__(self, held: HeldOut) -> None:
        self.held = held

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return RoutingDecision(router=self.name, probs={}, selected=[])


def test_fit_for_trains_on_the_held_out_questions_and_replays_with_fewer_calls() -> None:
    log = [routing_view(r, f"q{i:06d}") for i, r in enumerate(synthetic_routing_log(n=360, seed=3))]
    train, test = log[:300], log[300:]
    agents = [AgentSpec(name=a) for a in log[0].agents]
    fold = build_fold(train, test, agents, make_embedder("hashing"))
    names = [a.name for a in agents]
    held_rows = train[:150]
    probs = {a: 1.0 / len(names) for a in names}
    held = HeldOut(
        probs=[dict(probs) for _ in held_rows],
        selected=[list(names) for _ in held_rows],
        scores=[r.scores() for r in held_rows],
        ids=[r.qid for r in held_rows],
    )
    sel = fit_for(HeldRouter(held), fold.examples, fold.train)
    assert sel is not None and sel.n_train == 150
    aware = AnswerAware(sel, force=True)
    spent = plain = 0
    for g, r in zip(fold.graphs, test):
        d = RoutingDecision(router="held", probs=dict(probs), selected=list(names), early_stop=True)
        _, ran, _ = replay_question(aware, g.query, aware.prepare(d, g), r)
        _, ran_all, _ = replay_question(WeightedVote(), g.query, d.model_copy(update={"early_stop": False}), r)
        spent += len(ran)
        plain += len(ran_all)
    assert spent < plain  # it stops before calling every agent


def test_fit_for_skips_single_agent_routers_and_logs_without_answers() -> None:
    held = HeldOut(probs=[{"a": 1.0}], selected=[["a"]], scores=[{"a": 1.0}], ids=["q"])
    assert fit_for(HeldRouter(held), [], []) is None
    rec = RunRecord(qid="q", question="?", agents={"a": AgentRecord(score=1.0)})
    assert fit_for(HeldRouter(HeldOut()), [], [rec]) is None


class Uniform(BaseRouter):
    """A set router with no opinion: every candidate, equally likely, early stopping."""

    name = "uniform"

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        names = graph.agent_names
        return RoutingDecision(
            router=self.name, probs={a: 1.0 / len(names) for a in names}, selected=list(names), early_stop=True
        )


def test_agentroute_fit_trains_the_selector_from_history_with_answers() -> None:
    from agentroute.routers.fallback import GuardConfig, GuardedRouter

    log = synthetic_routing_log(n=300, seed=5)
    replies = {r.question: {a: c.pred for a, c in r.agents.items()} for r in log}
    calls: Counter[str] = Counter()

    def make(name: str):
        def fn(q: Query) -> str:
            calls[name] += 1
            return replies.get(q.text, {}).get(name) or "?"

        return agent(name=name)(fn)

    router = GuardedRouter(Uniform, GuardConfig())
    aware = AnswerAware(force=True)
    with AgentRoute([make(a) for a in log[0].agents], router, aggregator=aware) as ar:
        ar.fit(log)
        assert aware.selector is not None and aware.selector.n_train == 60 and aware.selector.note
        ans = ar.ask(log[0].question)
    assert ans.decision.history and "answer-aware" in (ans.decision.rationale or "")
    assert 1 <= sum(calls.values()) <= len(log[0].agents)


def test_a_selector_that_was_not_adopted_leaves_the_vote_alone() -> None:
    sel = _kind_selector(0.8)
    sel.adopted = False
    aware, plain = AnswerAware(sel), WeightedVote()
    d = RoutingDecision(router="t", probs={"a": 0.5, "b": 0.3, "c": 0.2}, selected=["a", "b", "c"], early_stop=True)
    q = Query(id="q", text="How many?")
    assert aware.prepare(d, None) == d  # type: ignore[arg-type]
    results = [AgentResult(agent="a", answer="four")]
    assert next_wave(d, aware, results, q) == next_wave(d, plain, results)
    assert aware.aggregate(q, d, results).text == "four"
