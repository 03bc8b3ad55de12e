"""Behaviour of the GNN router: conversion, batching, learning, determinism, unseen agents, selection,
checkpoints and devices. Every graph here is built by hand (a small seeded toy world), so the tests need
no data files and run in seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from agentroute.routers.gnn import CheckpointError, GNNRouter, collate, graph_arrays, to_heterodata
from agentroute.routers.gnn.checkpoint import FORMAT_VERSION
from agentroute.routers.gnn.config import GNNConfig
from agentroute.routers.gnn.data import EDGE_TYPES, REVERSE, feature_dims, graph_arrays_many, pack
from agentroute.routers.gnn.features import EVIDENCE_FEATURES, N_EVIDENCE, agent_evidence, past_tables
from agentroute.routers.gnn.frozen import FrozenEnsemble, LayoutError
from agentroute.routers.gnn.targets import target_distribution
from agentroute.routers.registry import make_router
from agentroute.routers.text.lexical import Lexicon
from agentroute.types import AgentSpec, PastQuery, Query, QueryGraph, TrainExample

DIM = 16
FAST = {"hidden": 32, "epochs": 40, "patience": 8, "batch_size": 32, "lr": 3e-3, "device": "cpu", "ensemble": 1}


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def make_graph(
    rng: np.random.Generator,
    qid: str,
    query_vec: np.ndarray,
    agents: list[AgentSpec],
    agent_vecs: np.ndarray,
    past: list[PastQuery] | None = None,
    n_entities: int = 2,
    text: str = "what is it?",
) -> QueryGraph:
    past = past or []
    n_mentioned = min(1, n_entities)
    return QueryGraph(
        query=Query(id=qid, text=text),
        query_vec=query_vec,
        entities=[f"e{i}" for i in range(n_entities)],
        entity_kinds=["span"] * n_entities,
        n_mentioned=n_mentioned,
        entity_vecs=_unit(rng.normal(size=(n_entities, DIM))) if n_entities else np.zeros((0, DIM), np.float32),
        related=[(0, 1, "co")] if n_entities > 1 else [],
        agents=agents,
        agent_vecs=agent_vecs,
        covers=[(0, 0)] if n_entities and agents else [],
        similar=past,
        past_vecs=_unit(rng.normal(size=(len(past), DIM))) if past else np.zeros((0, DIM), np.float32),
    )


class ToyWorld:
    """Questions on ``n_topics`` topics; each agent's spec embedding is one topic's centroid.

    Half of the questions are *text* questions: the best agent is the one whose topic the query is about.
    The other half are *history* questions: the query text is off-topic noise and the best agent is a random
    one, revealed only by how agents scored on the similar past questions (PERFORMED edges).
    """

    def __init__(self, n_topics: int = 4, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.centroids = _unit(self.rng.normal(size=(n_topics, DIM)))
        self.agents = [AgentSpec(name=f"agent{i}", description=f"topic {i}") for i in range(n_topics)]

    def example(self, i: int, kind: str, pool: list[int] | None = None) -> tuple[TrainExample, str]:
        rng = self.rng
        pool = pool if pool is not None else list(range(len(self.agents)))
        agents = [self.agents[a] for a in pool]
        names = [a.name for a in agents]
        if kind == "text":
            best = names[int(rng.integers(len(names)))]
            topic = pool[names.index(best)]
            q = _unit(self.centroids[topic] + 0.3 * rng.normal(size=DIM))
            past_best = [names[int(rng.integers(len(names)))] for _ in range(6)]  # uninformative history
            text = "what about this topic?"
        else:
            best = names[int(rng.integers(len(names)))]
            q = _unit(rng.normal(size=DIM))
            past_best = [best if rng.random() < 0.85 else names[int(rng.integers(len(names)))] for _ in range(6)]
            text = "Which one, given the record?"
        past = [
            PastQuery(f"p{i}-{j}", "an earlier question", float(0.9 - 0.05 * j), {a: float(a == pb) for a in names})
            for j, pb in enumerate(past_best)
        ]
        vecs = self.centroids[pool]
        graph = make_graph(rng, f"q{i}", q, agents, vecs, past, text=text)
        return TrainExample(graph=graph, scores={a: float(a == best) for a in names}), best

    def dataset(self, n: int, start: int = 0, pool: list[int] | None = None) -> list[tuple[TrainExample, str]]:
        return [self.example(start + i, "text" if i % 2 == 0 else "history", pool) for i in range(n)]


@pytest.fixture(scope="module")
def world() -> ToyWorld:
    return ToyWorld()


@pytest.fixture(scope="module")
def trained(world: ToyWorld) -> tuple[GNNRouter, list[tuple[TrainExample, str]]]:
    train = world.dataset(400)
    router = GNNRouter(seed=0, **FAST).fit([ex for ex, _ in train])
    return router, world.dataset(200, start=10_000)


# -- conversion ----------------------------------------------------------------------------------------


def test_conversion_shapes_features_and_reverse_edges(world: ToyWorld) -> None:
    ex, _ = world.example(0, "history")
    g = ex.graph
    data = to_heterodata(g)
    dims = feature_dims(DIM)
    assert data["query"].x.shape == (1, dims["query"])
    assert data["entity"].x.shape == (2, dims["entity"])
    assert data["agent"].x.shape == (4, dims["agent"])
    assert data["past"].x.shape == (6, dims["past"])
    assert torch.allclose(data["agent"].x[:, :DIM], torch.from_numpy(g.agent_vecs))
    assert set(data.edge_types) == set(EDGE_TYPES)
    mentions = data["query", "mentions", "entity"].edge_index
    assert mentions.tolist() == [[0], [0]]
    assert data["entity", "related", "entity"].edge_index.shape[1] == 2  # both directions
    perf = data["past", "performed", "agent"]
    assert perf.edge_index.shape[1] == 6 * 4
    for (j, a), attr in zip(perf.edge_index.t().tolist(), perf.edge_attr.tolist(), strict=True):
        assert attr[0] == g.similar[j].scores[g.agent_names[a]]
    sim = data["query", "similar", "past"]
    assert torch.allclose(sim.edge_attr[:, 0], torch.tensor([p.similarity for p in g.similar]))
    for fwd, rev in REVERSE.items():
        assert torch.equal(data[rev].edge_index, data[fwd].edge_index.flip(0))
    assert data["agent"].evidence.shape[0] == 4
    assert data["agent"].agent_id.tolist() == [0, 0, 0, 0]  # no trained-on agents: all take the spec path
    known = collate([graph_arrays(g, known_agents={"agent2": 1, "agent0": 2})])
    assert known["agent"].agent_id.tolist() == [2, 0, 1, 0]


def test_empty_entities_and_history_convert_and_route(world: ToyWorld, trained) -> None:
    router, _ = trained
    rng = np.random.default_rng(1)
    g = make_graph(rng, "empty", _unit(rng.normal(size=DIM)), world.agents, world.centroids, past=[], n_entities=0)
    data = to_heterodata(g)
    assert data["entity"].x.shape[0] == 0 and data["past"].x.shape[0] == 0
    assert all(data[et].edge_index.shape[1] == 0 for et in EDGE_TYPES if "agent" not in (et[0], et[2]) or "past" in et)
    decision = router.route(g)
    assert set(decision.probs) == set(g.agent_names)
    assert sum(decision.probs.values()) == pytest.approx(1.0, abs=1e-6)
    no_agents = make_graph(rng, "none", _unit(rng.normal(size=DIM)), [], np.zeros((0, DIM), np.float32))
    assert router.route_many([no_agents, g])[0].selected == []


def test_collate_matches_pyg_batch_and_batched_routing_matches_single(world: ToyWorld, trained) -> None:
    router, test = trained
    graphs = [ex.graph for ex, _ in test[:5]]
    bare = make_graph(np.random.default_rng(2), "bare", graphs[0].query_vec, world.agents[:2], world.centroids[:2])
    graphs.append(bare)
    ours = collate([graph_arrays(g) for g in graphs])
    singles = []
    for g in graphs:
        d = to_heterodata(g)
        for t in d.node_types:
            del d[t].batch, d[t].ptr
        del d["query"].lex_ids, d["query"].lex_weights, d["query"].lex_offsets
        singles.append(d)
    ref = Batch.from_data_list(singles)
    for t in ref.node_types:
        assert torch.equal(ours[t].x, ref[t].x)
        assert torch.equal(ours[t].batch, ref[t].batch)
    for et in EDGE_TYPES:
        assert torch.equal(ours[et].edge_index, ref[et].edge_index)
    batched = router.route_many(graphs)
    for g, d in zip(graphs, batched, strict=True):
        alone = router.route(g).probs
        assert alone.keys() == d.probs.keys()
        assert all(abs(alone[a] - d.probs[a]) < 1e-5 for a in alone)


# -- targets -------------------------------------------------------------------------------------------


def test_targets_softmax_smoothing_uniform_and_cost() -> None:
    names = ["a", "b", "c"]
    p, mask = target_distribution(names, {"a": 1.0, "b": 0.0, "c": None}, tau=0.25, smoothing=0.0)
    assert mask.tolist() == [True, True, False]
    assert p[0] == pytest.approx(np.exp(4) / (np.exp(4) + 1)) and p[2] == 0
    p, _ = target_distribution(names, {"a": 0.0, "b": 0.0, "c": 0.0})
    assert np.allclose(p, 1 / 3)
    p, _ = target_distribution(names, {"a": 1.0, "b": 0.0, "c": 0.0}, smoothing=0.3)
    assert p.min() >= 0.1 - 1e-6 and p.sum() == pytest.approx(1.0)
    costs = {"a": 10.0, "b": 1.0, "c": 1.0}
    p, _ = target_distribution(names, {"a": 1.0, "b": 1.0, "c": 0.0}, costs, lambda_cost=1.0)
    assert p[1] > p[0] > p[2]


# -- learning ------------------------------------------------------------------------------------------


def test_learns_from_query_text_and_from_neighbour_scores(trained) -> None:
    router, test = trained
    decisions = router.route_many([ex.graph for ex, _ in test])
    hits = {"text": [], "history": []}
    for i, (d, (_, best)) in enumerate(zip(decisions, test, strict=True)):
        hits["text" if i % 2 == 0 else "history"].append(d.selected[0] == best)
    # chance is 1/4 for both halves
    assert np.mean(hits["text"]) > 0.7
    assert np.mean(hits["history"]) > 0.7
    assert router.report is not None and router.report.best_epoch >= 0


def test_same_seed_same_probabilities_other_seed_differs(world: ToyWorld) -> None:
    data = world.dataset(60, start=50_000)
    examples = [ex for ex, _ in data]
    opts = {**FAST, "epochs": 3}
    a = GNNRouter(seed=7, **opts).fit(examples).predict_proba([ex.graph for ex in examples[:10]])
    b = GNNRouter(seed=7, **opts).fit(examples).predict_proba([ex.graph for ex in examples[:10]])
    c = GNNRouter(seed=8, **opts).fit(examples).predict_proba([ex.graph for ex in examples[:10]])
    assert a == b
    assert a != c


def test_long_epochs_are_validated_in_parts_and_patience_counts_validations(world: ToyWorld) -> None:
    examples = [ex for ex, _ in world.dataset(100, start=60_000)]  # 90 train, 10 validation
    opts = {**FAST, "epochs": 3, "batch_size": 10, "patience": 100}  # 9 steps per epoch
    once = GNNRouter(seed=1, **opts).fit(examples).report
    parts = GNNRouter(seed=1, eval_steps=4, **opts).fit(examples).report  # 9 steps: validated after 3, 6, 9
    assert once is not None and parts is not None
    assert (once.epochs_run, len(once.history)) == (3, 3)
    assert (parts.epochs_run, len(parts.history)) == (3, 9)
    # the epoch-end validations see the same weights either way (validating neither trains nor draws)
    assert [v for _, v in parts.history[2::3]] == pytest.approx([v for _, v in once.history], abs=1e-6)
    impatient = GNNRouter(seed=1, eval_steps=4, **{**opts, "patience": 1, "epochs": 40}).fit(examples).report
    assert impatient is not None  # stops at the first validation that does not improve, mid-epoch or not
    best = min(range(len(impatient.history)), key=lambda i: impatient.history[i][1])
    assert len(impatient.history) == best + 2 and impatient.epochs_run == (best + 1) // 3 + 1


def test_unseen_agent_is_scored_and_chosen_when_its_spec_matches() -> None:
    world = ToyWorld(n_topics=8, seed=3)
    rng = np.random.default_rng(0)
    train = []
    for i in range(500):  # each question offers 3 of the first 7 agents; the best matches the topic
        pool = sorted(rng.choice(7, size=3, replace=False).tolist())
        train.append(world.example(i, "text", pool)[0])
    router = GNNRouter(seed=0, **FAST).fit(train)
    assert "agent7" not in {a.name for a in router.agents}
    chosen = []
    for i in range(60):
        pool = sorted(rng.choice(7, size=2, replace=False).tolist()) + [7]
        ex, best = world.example(90_000 + i, "text", pool)
        if best != "agent7":
            continue
        decision = router.route(ex.graph)
        assert "agent7" in decision.probs
        chosen.append(decision.selected == ["agent7"] if router.top1 else decision.selected[0] == "agent7")
    assert len(chosen) >= 10
    assert np.mean(chosen) > 0.6  # chance is 1/3


def test_ensemble_averages_its_members(world: ToyWorld) -> None:
    examples = [ex for ex, _ in world.dataset(60, start=60_000)]
    router = GNNRouter(seed=3, **{**FAST, "epochs": 3, "ensemble": 2}).fit(examples)
    assert len(router.models) == 2 and len(router.reports) == 2
    graphs = [ex.graph for ex in examples[:8]]
    both = router.predict_proba(graphs)
    members = []
    for m in router.models:
        router.models = [m]
        members.append(router.predict_proba(graphs))
    for i, p in enumerate(both):
        assert members[0][i] != members[1][i]
        for a in p:
            assert p[a] == pytest.approx((members[0][i][a] + members[1][i][a]) / 2, abs=1e-6)


def test_lexicon_keeps_frequent_terms_and_weights_tfidf() -> None:
    texts = ["How many apples", "How many pears", "Who wrote it", "how many"]
    lex = Lexicon.fit(texts, min_df=2)
    assert set(lex.terms) == {"How", "many", "How many"}  # case-sensitive; "how" appears once
    ids, weights = lex.encode("How many How many bananas")
    assert sorted(lex.terms[i] for i in ids) == ["How", "How many", "many"]
    assert float(np.linalg.norm(weights)) == pytest.approx(1.0)
    assert len(lex.encode("nothing known here")[0]) == 0
    again = Lexicon.from_state(lex.state())
    assert again.terms == lex.terms and np.allclose(again.encode("How many")[1], lex.encode("How many")[1])


# -- selection -----------------------------------------------------------------------------------------


def test_selection_rules() -> None:
    peaked = {"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05}
    flat = {"a": 0.35, "b": 0.3, "c": 0.25, "d": 0.1}

    def router(**options: object) -> GNNRouter:
        return GNNRouter(device="cpu", **options)  # type: ignore[arg-type]

    assert router(mass=0.7, prune=False).select(peaked) == ["a", "b"]
    assert router(mass=0.95, max_calls=2, prune=False).select(peaked) == ["a", "b"]
    assert router(mass=0.4).select(peaked) == ["a"]
    # pruning: b + c (0.45) can never outvote a (0.5) in a weighted vote, so only a is called
    assert router(mass=0.95, max_calls=3).select(peaked) == ["a"]
    assert router(mass=0.7, max_calls=3).select(flat) == ["a", "b", "c"]
    assert router(mass=0.7, max_calls=2).select(flat) == ["a"]
    assert router(k=3).select(peaked) == ["a", "b", "c"]
    assert router().select(peaked, k=2) == ["a", "b"]
    top1 = make_router("gnn-top1", seed=0, device="cpu", k=3)
    assert top1.name == "gnn-top1" and top1.select(flat) == ["a"]
    assert make_router("gnn", seed=0, device="cpu").name == "gnn"


def test_routed_sets_follow_probabilities(trained) -> None:
    router, test = trained
    graphs = [ex.graph for ex, _ in test[:40]]
    for d in router.route_many(graphs, k=2):
        ranked = sorted(d.probs, key=lambda a: -d.probs[a])
        assert d.selected == ranked[:2]
    for d in router.route_many(graphs):
        ranked = sorted(d.probs, key=lambda a: -d.probs[a])
        n = len(d.selected)
        assert 1 <= n <= router.max_calls and d.selected == ranked[:n]
        cumulative = np.cumsum([d.probs[a] for a in ranked])
        unpruned = min(int(np.searchsorted(cumulative, router.mass - 1e-12)) + 1, router.max_calls)
        if n > 1:
            assert n == unpruned and cumulative[n - 1] - d.probs[ranked[0]] > d.probs[ranked[0]]
        else:
            others = cumulative[unpruned - 1] - d.probs[ranked[0]]
            assert unpruned == 1 or others <= d.probs[ranked[0]]
        assert d.early_stop == (n > 1)


def test_early_stop_can_be_turned_off(trained) -> None:
    router, test = trained
    graphs = [ex.graph for ex, _ in test[:40]]
    router.early_stop = False
    try:
        assert not any(d.early_stop for d in router.route_many(graphs, k=3))
    finally:
        router.early_stop = True
    assert all(d.early_stop for d in router.route_many(graphs, k=3))


# -- checkpoints ---------------------------------------------------------------------------------------


def test_checkpoint_round_trip(trained, tmp_path: Path) -> None:
    router, test = trained
    router.embedder_config = {"name": "hashing", "dim": DIM}
    path = router.save(tmp_path / "gnn.pt")
    raw = torch.load(path, weights_only=True)
    assert raw["format_version"] == FORMAT_VERSION and raw["embedder"] == {"name": "hashing", "dim": DIM}
    loaded = GNNRouter.load(path, device="cpu")
    graphs = [ex.graph for ex, _ in test[:20]]
    assert loaded.predict_proba(graphs) == router.predict_proba(graphs)
    assert [a.name for a in loaded.agents] == [a.name for a in router.agents]
    assert loaded.hparams() == router.hparams() and loaded.name == router.name


def test_checkpoint_version_mismatch_names_file_and_versions(trained, tmp_path: Path) -> None:
    router, _ = trained
    path = router.save(tmp_path / "old.pt")
    body = torch.load(path, weights_only=True)
    body["format_version"] = 999
    torch.save(body, path)
    with pytest.raises(CheckpointError, match=rf"old\.pt.*999.*\({FORMAT_VERSION}\)"):
        GNNRouter.load(path)
    del body["format_version"]
    torch.save(body, path)
    with pytest.raises(CheckpointError, match="missing"):
        GNNRouter.load(path)
    with pytest.raises(CheckpointError, match="no such"):
        GNNRouter.load(tmp_path / "absent.pt")


def test_untrained_router_and_wrong_embedding_width_fail_clearly(trained, world: ToyWorld) -> None:
    with pytest.raises(RuntimeError, match="not trained"):
        GNNRouter(device="cpu").route(world.example(0, "text")[0].graph)
    router, _ = trained
    rng = np.random.default_rng(0)
    wide = make_graph(rng, "w", _unit(rng.normal(size=DIM * 2)), world.agents, _unit(rng.normal(size=(4, DIM * 2))))
    wide.entity_vecs = np.zeros((2, DIM * 2), np.float32)
    with pytest.raises(ValueError, match="width"):
        router.route(wide)


# -- devices -------------------------------------------------------------------------------------------


def test_cuda_requested_without_cuda_is_a_clear_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        GNNRouter(device="cuda")
    assert GNNRouter(device="auto").device.type == "cpu"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_and_route_match_cpu_closely(world: ToyWorld, tmp_path: Path) -> None:
    data = world.dataset(120, start=70_000)
    examples = [ex for ex, _ in data]
    gpu = GNNRouter(seed=0, **{**FAST, "device": "cuda", "epochs": 5}).fit(examples)
    assert next(gpu.model.parameters()).is_cuda
    graphs = [ex.graph for ex in examples[:20]]
    probs = gpu.predict_proba(graphs)
    assert all(sum(p.values()) == pytest.approx(1.0, abs=1e-5) for p in probs)
    cpu = GNNRouter.load(gpu.save(tmp_path / "gpu.pt"), device="cpu")
    for a, b in zip(cpu.predict_proba(graphs), probs, strict=True):
        assert all(abs(a[k] - b[k]) < 1e-4 for k in a)


NEEDS_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, NEEDS_CUDA])]
LAYOUTS = {  # the model options the router accepts that change the layout FrozenEnsemble re-implements
    "default": {},
    "one layer, one head": {"hidden": 16, "layers": 1, "heads": 1},
    "three layers, four heads": {"hidden": 48, "layers": 3, "heads": 4},
    "no lexicon, no agent ids": {"lexical": False, "agent_ids": False},
    "lexicon only": {"hidden": 24, "heads": 3, "agent_ids": False},
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layout", list(LAYOUTS), ids=list(LAYOUTS))
def test_frozen_ensemble_computes_what_the_pyg_members_compute(world: ToyWorld, layout: str, device: str) -> None:
    examples = [ex for ex, _ in world.dataset(60, start=70_000)]
    options = {**FAST, "hidden": 32, "epochs": 1, "ensemble": 3, "device": device, **LAYOUTS[layout]}
    router = GNNRouter(seed=5, **options).fit(examples)
    with torch.no_grad():  # one epoch leaves some weights near their (zero) start: make every path count
        for m in router.models:
            for p in m.parameters():
                p.add_(0.1 * torch.randn_like(p))
    unseen = world.example(1, "text", pool=[0, 1, 2, 3])[0].graph
    unseen.agents = [*unseen.agents[:3], AgentSpec(name="newcomer", description="topic 3")]
    items = [graph_arrays(ex.graph, router.lexicon, router._known()) for ex in examples[:20]]
    items.append(graph_arrays(unseen, router.lexicon, router._known()))
    for m in router.models:
        m.eval()
    with torch.inference_mode():
        reference = torch.stack([m(collate(items).to(router.device)) for m in router.models])
    fast = FrozenEnsemble(router.models).to(router.device).logits(pack(items).to(router.device))
    assert fast.shape == reference.shape == (3, sum(len(it.agent_names) for it in items))
    assert torch.allclose(fast, reference, atol=1e-4)


def test_frozen_ensemble_refuses_a_model_laid_out_differently(world: ToyWorld) -> None:
    examples = [ex for ex, _ in world.dataset(20, start=80_000)]
    router = GNNRouter(seed=1, **{**FAST, "epochs": 1}).fit(examples)
    model = router.models[0]
    with pytest.raises(LayoutError, match="mean SAGEConv"):
        model.convs[0].convs[("query", "mentions", "entity")].aggr = "max"
        FrozenEnsemble([model])
    model.convs[0].convs[("query", "mentions", "entity")].aggr = "mean"
    model.trunk[1] = torch.nn.ReLU()
    with pytest.raises(LayoutError, match="unexpected trunk"):
        FrozenEnsemble([model])


def test_agent_evidence_summarises_history_the_same_alone_or_in_a_batch() -> None:
    rng = np.random.default_rng(0)
    agents = [AgentSpec(name="a"), AgentSpec(name="b")]
    vecs = _unit(rng.normal(size=(2, DIM)))
    past = [
        PastQuery("p1", "first", 0.9, {"a": 1.0, "b": 0.0}),
        PastQuery("p2", "second", 0.5, {"a": 1.0, "b": 1.0}),
        PastQuery("p3", "third", 0.1, {"a": 0.0}),
    ]
    graph = make_graph(rng, "q", _unit(rng.normal(size=DIM)), agents, vecs, past)
    three = [*agents, AgentSpec(name="c")]
    bare = make_graph(rng, "q2", _unit(rng.normal(size=DIM)), three, _unit(rng.normal(size=(3, DIM))))
    alone = agent_evidence([graph], past_tables([graph]))[0]
    batched = agent_evidence([bare, graph], past_tables([bare, graph]))
    np.testing.assert_allclose(batched[1], alone, atol=1e-6)
    assert batched[0].shape == (3, N_EVIDENCE) and not batched[0][:, :8].any()  # no history, no evidence
    col = {name: i for i, name in enumerate(EVIDENCE_FEATURES)}
    w = np.array([0.9, 0.5, 0.1]) + 1e-3
    assert alone[0, col["mean_score"]] == pytest.approx((w[0] + w[1]) / w.sum(), abs=1e-5)
    assert alone[1, col["mean_score"]] == pytest.approx(w[1] / (w[0] + w[1]), abs=1e-5)
    assert alone[0, col["mean_minus_best"]] == 0.0 and alone[1, col["mean_minus_best"]] < 0
    # p1 is the only past question that separates the agents, and a won it
    assert (alone[0, col["win_share"]], alone[1, col["win_share"]]) == (pytest.approx(1.0), 0.0)
    assert alone[1, col["coverage"]] == pytest.approx((w[0] + w[1]) / w.sum(), abs=1e-5)
    assert alone[1, col["nearest_advantage"]] == pytest.approx(-0.5)


def test_a_batch_mixing_embedding_widths_is_a_clear_error(world: ToyWorld) -> None:
    narrow = world.example(1, "text")[0].graph
    wide = world.example(2, "text")[0].graph
    wide.query_vec = np.concatenate([wide.query_vec, wide.query_vec])
    with pytest.raises(ValueError, match="different embedding widths.*different embedders"):
        graph_arrays_many([narrow, wide])


def test_options_are_one_config() -> None:
    base = GNNConfig(hidden=48, mass=0.7)
    router = GNNRouter(device="cpu", config=base, mass=0.8)
    assert (router.config.hidden, router.config.mass, base.mass) == (48, 0.8, 0.7)  # the given config is not changed
    router.mass = 0.5  # attribute and config are one value
    assert router.config.mass == router.mass == 0.5
    assert set(router.hparams()) == {"seed"} | GNNConfig.names()
    with pytest.raises(TypeError, match="GNNRouter got unexpected option"):
        GNNRouter(device="cpu", hiden=32)
    with pytest.raises(ValueError, match=r"ensemble must be >= 1 \(got 0\)"):
        GNNRouter(device="cpu", ensemble=0)
