"""The do-no-harm guard: learned routers fall back to the best single agent unless held-out data shows a gain."""

from __future__ import annotations

import numpy as np
import pytest

from agentroute.bench.replay import run_replay_benchmark
from agentroute.routers.fallback import GuardConfig, GuardedRouter, HeldOut, choose_margin
from agentroute.routers.registry import make_router
from agentroute.types import AgentRecord, RunRecord

TOPICS = {
    "math": "how many apples remain after adding seven and subtracting three",
    "history": "which emperor ruled the old empire before the long war",
    "science": "what gas do green plants absorb from the air in sunlight",
}


def dominant_log(n: int, seed: int = 0, p_strong: float = 0.9, p_noise: float = 0.45) -> list[RunRecord]:
    """One agent right ~90% of the time everywhere; three others right at random, whatever the question."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        topic = list(TOPICS)[i % 3]
        words = TOPICS[topic].split()
        rng.shuffle(words)
        agents = {"strong": AgentRecord(score=float(rng.random() < p_strong))}
        for j in range(3):
            agents[f"noise{j}"] = AgentRecord(score=float(rng.random() < p_noise))
        rows.append(RunRecord(qid=f"d{i}", question=f"{topic} {i} " + " ".join(words), agents=agents))
    return rows


def routable_log(n: int, seed: int = 0) -> list[RunRecord]:
    """Each topic has its own expert (right 90%), every other agent is right 20%; best single ~ 0.43."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        topic = list(TOPICS)[i % 3]
        words = TOPICS[topic].split()
        rng.shuffle(words)
        agents = {t: AgentRecord(score=float(rng.random() < (0.9 if t == topic else 0.2))) for t in TOPICS}
        rows.append(RunRecord(qid=f"r{i}", question=" ".join(words), agents=agents))
    return rows


def best_single_scores(report) -> list[float]:
    return report.best_single_scores


@pytest.mark.parametrize("router", ["knn", "mlp"])
def test_guard_falls_back_where_one_agent_dominates(router: str) -> None:
    records = dominant_log(300, seed=1)
    opts = {"mlp": {"epochs": 10}}
    report = run_replay_benchmark(records, folds=2, routers=[router, "best-single"], router_options=opts)
    guarded, best = report.result(router), report.result("best-single")
    assert guarded.scores == best.scores  # it routes exactly like always calling the dominant agent
    assert "fallback" in (guarded.guard or "")


def test_guarded_router_explains_the_fallback_in_the_rationale() -> None:
    from agentroute.bench.replay import build_fold
    from agentroute.kg.embed import make_embedder
    from agentroute.types import AgentSpec

    records = dominant_log(240, seed=2)
    fold = build_fold(
        records[:200], records[200:], [AgentSpec(name=a) for a in records[0].agents], make_embedder("hashing")
    )
    router = make_router("knn").fit(fold.examples)
    assert isinstance(router, GuardedRouter)
    assert router.state.fallback
    for d in router.route_many(fold.graphs):
        assert d.selected == ["strong"]
        assert "fallback to best single agent 'strong'" in (d.rationale or "")
    bare = make_router("knn", guard=False).fit(fold.examples)
    assert not isinstance(bare, GuardedRouter)


def test_guard_keeps_a_router_that_really_gains() -> None:
    records = routable_log(300, seed=3)
    report = run_replay_benchmark(records, folds=2, routers=["knn", "best-single"])
    knn, best = report.result("knn"), report.result("best-single")
    assert knn.accuracy > best.accuracy + 0.2
    assert "fallback" not in (knn.guard or "")


def held(rows: list[tuple[dict[str, float], dict[str, float]]]) -> HeldOut:
    return HeldOut(
        probs=[p for p, _ in rows], selected=[[max(p, key=p.get)] for p, _ in rows], scores=[s for _, s in rows]
    )


def test_margin_is_learned_from_held_out_questions() -> None:
    prior = {"a": 0.7, "b": 0.5}
    # confident disagreements are right, hesitant ones wrong: the best margin lies between the two
    confident = ({"a": 0.1, "b": 0.9}, {"a": 0.0, "b": 1.0})
    hesitant = ({"a": 0.45, "b": 0.55}, {"a": 1.0, "b": 0.0})
    agree = ({"a": 0.8, "b": 0.2}, {"a": 1.0, "b": 0.0})
    state = choose_margin(held([confident] * 30 + [hesitant] * 30 + [agree] * 40), prior, GuardConfig())
    assert not state.fallback
    assert 0.1 <= state.delta <= 0.5
    assert state.gain == pytest.approx(0.3)


def test_a_margin_must_clearly_beat_trusting_the_router() -> None:
    prior = {"a": 0.7, "b": 0.5}
    confident = ({"a": 0.1, "b": 0.9}, {"a": 0.0, "b": 1.0})
    # hesitant disagreements split 3:2 for the prior: a margin gains one question in 100, which is noise
    hesitant_a = ({"a": 0.45, "b": 0.55}, {"a": 1.0, "b": 0.0})
    hesitant_b = ({"a": 0.45, "b": 0.55}, {"a": 0.0, "b": 1.0})
    agree = ({"a": 0.8, "b": 0.2}, {"a": 1.0, "b": 0.0})
    rows = [confident] * 40 + [hesitant_a] * 3 + [hesitant_b] * 2 + [agree] * 55
    state = choose_margin(held(rows), prior, GuardConfig())
    assert not state.fallback and state.delta == 0.0
    assert state.gain == pytest.approx(0.39)  # the router itself (40 − 3 + 2), not a margin fitted to noise


def test_guard_keeps_the_router_s_own_choices_where_routing_clearly_pays() -> None:
    from agentroute.bench.replay import build_fold
    from agentroute.kg.embed import make_embedder
    from agentroute.types import AgentSpec

    records = routable_log(330, seed=4)
    specs = [AgentSpec(name=a) for a in records[0].agents]
    fold = build_fold(records[:270], records[270:], specs, make_embedder("hashing"))
    guarded = make_router("knn").fit(fold.examples)
    bare = make_router("knn", guard=False).fit(fold.examples)
    assert isinstance(guarded, GuardedRouter) and not guarded.state.fallback
    assert guarded.state.delta == 0.0
    assert [d.selected for d in guarded.route_many(fold.graphs)] == [d.selected for d in bare.route_many(fold.graphs)]


def test_a_gain_within_noise_is_a_fallback() -> None:
    prior = {"a": 0.7, "b": 0.5}
    win = ({"a": 0.1, "b": 0.9}, {"a": 0.0, "b": 1.0})
    loss = ({"a": 0.1, "b": 0.9}, {"a": 1.0, "b": 0.0})
    state = choose_margin(held([win] * 11 + [loss] * 10), prior, GuardConfig(z=1.0))
    assert state.fallback and state.gain is not None and 0 < state.gain < state.needed


def test_guard_option_is_validated() -> None:
    with pytest.raises(ValueError, match="unknown guard setting"):
        make_router("knn", guard={"zz": 1})
    assert isinstance(make_router("knn", guard={"z": 0.0}), GuardedRouter)
    assert not isinstance(make_router("best-single"), GuardedRouter)  # not learned: nothing to guard


def test_too_few_training_questions_turn_the_guard_off_and_say_so() -> None:
    from agentroute.kg.builder import QueryGraphBuilder
    from agentroute.kg.examples import make_examples
    from agentroute.kg.store import open_store
    from agentroute.types import AgentSpec

    rows = routable_log(90)
    with open_store("memory") as store:
        builder = QueryGraphBuilder(store, [AgentSpec(name=t) for t in TOPICS])
        builder.set_history(rows)
        examples = make_examples(builder, rows)
        off = make_router("knn", guard={"min_examples": 100}).fit(examples)
        on = make_router("knn", guard={"min_examples": 50}).fit(examples)
    assert off.state.note == "guard off: 90 training questions are too few to hold some out"
    assert off.held.ids == [] and len(on.held.ids) > 0 and not (on.state.note or "").startswith("guard off")


def test_the_margin_keeps_a_set_that_already_asks_the_best_single_agent() -> None:
    from agentroute.routers.fallback import GuardState
    from agentroute.types import RoutingDecision

    router = make_router("knn")
    router.state = GuardState(prior_means={"a": 0.7, "b": 0.5, "c": 0.4}, delta=0.5)
    probs = {"a": 0.3, "b": 0.45, "c": 0.25}
    kept = router.guard(RoutingDecision(router="x", probs=probs, selected=["b", "a"], early_stop=True))
    assert kept.selected == ["b", "a"] and kept.early_stop
    assert "includes the best single agent 'a'" in (kept.rationale or "")
    single = router.guard(RoutingDecision(router="x", probs=probs, selected=["b", "c"]))
    assert single.selected == ["a"]  # 'b' leads 'a' by 0.15 < margin 0.5, and the set leaves 'a' out
    assert "kept best single agent 'a'" in (single.rationale or "")


def test_cross_fitted_guard_holds_out_every_training_question() -> None:
    from agentroute.bench.replay import build_fold
    from agentroute.kg.embed import make_embedder
    from agentroute.types import AgentSpec

    records = dominant_log(180, seed=5)
    specs = [AgentSpec(name=a) for a in records[0].agents]
    fold = build_fold(records[:150], records[150:], specs, make_embedder("hashing"))
    router = make_router("knn", guard={"folds": 3}).fit(fold.examples)
    assert isinstance(router, GuardedRouter)
    assert len(router.held.probs) == router.state.n_val == 150  # each question routed by a copy that never saw it
    assert router.state.fallback
    one_slice = make_router("knn").fit(fold.examples)
    assert len(one_slice.held.probs) == 30  # the default: one 20% slice


def test_an_async_router_under_the_guard_is_still_guarded() -> None:
    """The guard routes synchronously; it must not pass on the wrapped router's ``aroute`` (or ``turn``),
    which the pipeline would await instead, routing past the guard."""
    from agentroute import AgentRoute, FunctionAgent
    from agentroute.routers.base import AsyncRouter, TurnRouter
    from agentroute.routers.baselines import KnnRouter
    from agentroute.types import RoutingDecision

    class AlwaysNoise(KnnRouter):
        async def aroute(self, graph, k=None):  # type: ignore[no-untyped-def]
            return RoutingDecision(router=self.name, selected=["noise0"], probs={"noise0": 1.0})

    records = dominant_log(300, seed=1)
    guarded = GuardedRouter(AlwaysNoise)
    assert not isinstance(guarded, AsyncRouter) and not isinstance(guarded, TurnRouter)
    agents = [FunctionAgent(lambda q, name=name: name, name=name) for name in records[0].agents]
    with AgentRoute(agents, guarded) as ar:
        ar.fit(records)
        assert guarded.state.fallback
        answer = ar.ask("math how many apples remain")
    assert answer.decision.selected == ["strong"] and answer.text == "strong"


def test_a_guarded_checkpoint_loads_whole_through_load_router(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``load_router`` restores the guard; ``GNNRouter.load`` gives the bare GNN and says so."""
    import warnings

    from agentroute.bench.replay import build_fold
    from agentroute.kg.embed import make_embedder
    from agentroute.routers.gnn.router import GNNRouter
    from agentroute.routers.registry import load_router
    from agentroute.types import AgentSpec

    records = dominant_log(240, seed=2)
    specs = [AgentSpec(name=a) for a in records[0].agents]
    fold = build_fold(records[:200], records[200:], specs, make_embedder("hashing"))
    guarded = make_router("gnn", seed=0, epochs=3, ensemble=1, device="cpu").fit(fold.examples)
    assert isinstance(guarded, GuardedRouter) and guarded.state.fallback
    path = guarded.save(tmp_path / "gnn.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = load_router("gnn", path, device="cpu")
    assert isinstance(again, GuardedRouter)
    assert [d.selected for d in again.route_many(fold.graphs)] == [d.selected for d in guarded.route_many(fold.graphs)]
    with pytest.warns(UserWarning, match=r"saved with the do-no-harm guard.*load_router\('gnn', path\)"):
        bare = GNNRouter.load(path, device="cpu")
    assert not isinstance(bare, GuardedRouter)


def test_a_gain_counts_only_beyond_z_paired_standard_errors() -> None:
    from agentroute.routers.fallback import paired_gain

    better = np.array([1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    base = np.array([0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    diff = better - base  # 1, 0, 0, 1, 0, -1, 1, 0: mean 0.25, sample sd 0.7071
    gain, needed = paired_gain(better, base, z=1.64)
    assert gain == pytest.approx(0.25)
    assert needed == pytest.approx(1.64 * diff.std(ddof=1) / np.sqrt(8)) and needed == pytest.approx(0.41, abs=0.01)
    assert paired_gain(better, better, z=1.64) == (0.0, 0.0)  # never differ: any gain would count
    assert paired_gain(better[:1], base[:1], z=1.64)[1] == float("inf")  # one question proves nothing
