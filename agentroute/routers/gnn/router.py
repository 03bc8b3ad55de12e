"""``GNNRouter``: fit on routing history, route query graphs, save and load; registered as "gnn" and
"gnn-top1".

Probabilities are the mean over a small ensemble (``ensemble`` members with seeds derived from ``seed``,
each with its own validation split): routing outcomes are noisy, and averaging a few members lowers the
variance of the decision more cheaply than a larger model. "gnn" selects the smallest most-probable set
whose mass reaches ``mass`` (at most ``max_calls``), pruned to the top agent when the rest could not
outvote it in the downstream weighted vote; or the top ``k`` when ``k`` is given. Its decisions are
``early_stop`` by default: the set is called in waves and the rest skipped once the vote is settled (the
second agent usually confirms the first), which gives the set's answer for fewer calls; pass
``early_stop=False`` to call the whole set in one parallel wave. "gnn-top1" always calls exactly one agent.
Every option is a keyword argument of ``GNNRouter`` (and of both registry factories).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from agentroute.routers.base import BaseRouter, NotTrainedError, select_by_mass, select_top_k
from agentroute.routers.gnn.checkpoint import load_checkpoint, save_checkpoint
from agentroute.routers.gnn.config import GNNConfig
from agentroute.routers.gnn.data import GraphArrays, feature_dims, graph_arrays_many, pack
from agentroute.routers.gnn.features import EVIDENCE_FEATURES, N_EVIDENCE
from agentroute.routers.gnn.frozen import FrozenEnsemble
from agentroute.routers.gnn.model import GNNScorer, segment_log_softmax
from agentroute.routers.gnn.targets import target_distribution
from agentroute.routers.gnn.train import Examples, TrainReport, train_model
from agentroute.routers.gnn.unproven import hold_at_weakest, unproven_agents
from agentroute.routers.task_prior import TaskPrior, cross_fitted
from agentroute.routers.text.lexical import Lexicon
from agentroute.types import AgentSpec, QueryGraph, RoutingDecision, TrainExample

_OPTIONS = GNNConfig.names()


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when available; asking for CUDA without it is an error, not a silent fallback."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available here; use device='cpu' or 'auto'")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {name!r}: expected 'auto', 'cpu' or 'cuda'")
    return dev


class GNNRouter(BaseRouter):
    """AgentRouter-style heterogeneous GNN router (see ``model.py`` for the architecture)."""

    name = "gnn"
    learns_from_history = True

    def __init__(
        self,
        seed: int = 0,
        *,
        device: str = "auto",
        embedder: Any = None,
        name: str | None = None,
        config: GNNConfig | None = None,
        **options: Any,
    ) -> None:
        """``options`` are ``GNNConfig`` fields overriding ``config`` (default: ``GNNConfig()``)."""
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise TypeError(f"GNNRouter got unexpected option(s) {', '.join(unknown)}")
        base = config if config is not None else GNNConfig()
        self.config = replace(base, **options)
        self.seed = seed
        self.device = resolve_device(device)
        self.lexicon: Lexicon | None = None
        self.task_prior: TaskPrior | None = None
        self.n_evidence = N_EVIDENCE  # fewer for checkpoints written before the task columns
        self.embedder_config: dict[str, Any] | None = _embedder_config(embedder)
        self.name = name or ("gnn-top1" if self.config.top1 else "gnn")
        self._models: list[GNNScorer] = []
        self.reports: list[TrainReport] = []
        self.in_dims: dict[str, int] | None = None
        self.agents: list[AgentSpec] = []
        self._frozen: FrozenEnsemble | None = None
        self.extra: dict[str, Any] = {}  # saved alongside the weights (e.g. the fallback guard's state)

    # Every GNNConfig field reads and writes through ``self.config`` (``router.mass = 0.7`` changes it).
    def __getattr__(self, name: str) -> Any:
        if name in _OPTIONS and "config" in self.__dict__:
            return getattr(self.__dict__["config"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OPTIONS:
            setattr(self.config, name, value)
        else:
            object.__setattr__(self, name, value)

    # -- options -------------------------------------------------------------------------------------
    def hparams(self) -> dict[str, Any]:
        """Every option except device and embedder, as plain values (saved in checkpoints)."""
        return {"seed": self.seed, **self.config.as_dict()}

    def training_key(self) -> str:
        """Everything that shapes training (not selection): two routers with equal keys, fitted on the same
        examples, learn the same ensemble — so the replay benchmark fits ``gnn`` and ``gnn-top1`` once."""
        options = {"seed": self.seed, **self.config.training_options()}
        return repr((sorted(options.items()), str(self.device)))

    def share_training(self, other: GNNRouter) -> GNNRouter:
        """Route with ``other``'s trained ensemble (same ``training_key``), keeping this router's selection."""
        if other.training_key() != self.training_key():
            raise ValueError("share_training needs a router trained with the same options")
        self.models, self.reports = other.models, other.reports
        self.lexicon, self.agents, self.in_dims = other.lexicon, other.agents, other.in_dims
        self.task_prior, self.n_evidence = other.task_prior, other.n_evidence
        self.embedder_config = other.embedder_config
        return self

    def _build_model(self) -> GNNScorer:
        assert self.in_dims is not None
        size = len(self.lexicon) if self.lexicon is not None else 0
        return GNNScorer(
            self.in_dims,
            lexicon_size=size,
            known_agents=len(self.agents) if self.config.agent_ids else 0,
            n_evidence=self.n_evidence,
            **self.config.model_options(),
        )

    # -- training ------------------------------------------------------------------------------------
    def fit(
        self, examples: Sequence[TrainExample], embedder: Any = None, progress: Callable[[str], None] | None = None
    ) -> GNNRouter:
        """Train on examples (graphs built from training history + the agents' recorded scores);
        ``progress`` hears when each ensemble member is done."""
        if not examples:
            raise ValueError("GNNRouter.fit needs at least one training example")
        if embedder is not None:
            self.embedder_config = _embedder_config(embedder)
        self.lexicon = None
        if self.lexical:
            texts = [ex.graph.query.text for ex in examples]
            min_df = self.lexicon_min_df if self.lexicon_min_df >= 1 else self.lexicon_min_df * len(texts)
            self.lexicon = Lexicon.fit(texts, min_df=max(2, int(np.ceil(min_df))), max_terms=self.lexicon_max_terms)
        specs: dict[str, AgentSpec] = {}
        for ex in examples:
            for spec in ex.graph.agents:
                specs.setdefault(spec.name, spec)
        self.agents = list(specs.values())
        self.task_prior, task_scores = None, None
        if self.tasks:  # cross-fitted: each example's expectation comes from a prior that never saw it
            self.task_prior, task_scores = cross_fitted(
                [ex.graph.query.text for ex in examples],
                [ex.task for ex in examples],
                [ex.scores for ex in examples],
                [ex.graph.agent_names for ex in examples],
                seed=self.seed,
            )
        # without a prior the task columns would be all zero: leave them out (the model is then exactly the
        # one trained before task priors existed)
        self.n_evidence = N_EVIDENCE if self.task_prior is not None else EVIDENCE_FEATURES.index("task_score")
        items = graph_arrays_many([ex.graph for ex in examples], self.lexicon, self._known(), task_scores)
        self.in_dims = feature_dims(items[0].embed_dim)  # one width: graph_arrays_many checks it
        data = Examples(items, [], [])
        for ex in examples:
            names = ex.graph.agent_names
            t, m = target_distribution(names, ex.scores, ex.costs, self.tau, self.smoothing, self.lambda_cost)
            data.targets.append(t)
            data.masks.append(m)
        config = self.config.train_config()
        self.models, self.reports = [], []
        for member in range(self.ensemble):
            model, report = train_model(self._build_model, data, config, self.device, self.seed * 1000 + member)
            self.models.append(model)
            self.reports.append(report)
            if progress is not None:
                progress(
                    f"ensemble member {member + 1}/{self.ensemble}: {report.epochs_run} epochs "
                    f"(best {report.best_epoch + 1})"
                )
        return self

    def trained_agents(self) -> frozenset[str]:
        return frozenset(a.name for a in self.agents) if self.models else frozenset()

    def _known(self) -> dict[str, int]:
        """Trained-on agent name -> id-embedding row (1-based; unseen agents map to 0)."""
        return {a.name: i + 1 for i, a in enumerate(self.agents)} if self.agent_ids else {}

    @property
    def models(self) -> list[GNNScorer]:
        """The trained ensemble members (PyG modules, the reference implementation)."""
        return self._models

    @models.setter
    def models(self, members: list[GNNScorer]) -> None:
        self._models, self._frozen = members, None

    @property
    def model(self) -> GNNScorer | None:
        """The first ensemble member (None before training)."""
        return self.models[0] if self.models else None

    @property
    def report(self) -> TrainReport | None:
        """The first member's training report (``reports`` has one per member)."""
        return self.reports[0] if self.reports else None

    # -- routing -------------------------------------------------------------------------------------
    @torch.inference_mode()
    def predict_proba(self, graphs: Sequence[QueryGraph], batch_size: int | None = None) -> list[dict[str, float]]:
        """Agent -> probability for each graph (softmax over that graph's own candidate agents).

        Graphs go through the model ``batch_size`` at a time: on CPU, batches of about a hundred small
        graphs keep the per-edge tensors in cache and were the fastest in ``benchmarks/routing_speed.py``
        (default 128 on CPU, 4096 on a GPU).
        """
        return self._predict(graphs, batch_size)[0]

    def _predict(
        self, graphs: Sequence[QueryGraph], batch_size: int | None = None
    ) -> tuple[list[dict[str, float]], list[dict[str, float]], list[list[str]]]:
        """Per graph: the agents' probabilities, their expected scores from the task prior (empty without
        one), and the agents held at the weakest proven agent's probability (``unproven.py``; none with
        ``hold_unproven=False``)."""
        if not self.models or self.in_dims is None:
            raise NotTrainedError(f"{self.name} router is not trained: call fit() or GNNRouter.load() first")
        step = batch_size or (128 if self.device.type == "cpu" else 4096)
        known = self._known()
        probs: list[dict[str, float]] = []
        expected: list[dict[str, float]] = []
        for start in range(0, len(graphs), step):
            chunk = graphs[start : start + step]
            prior = self.task_prior
            task = prior.expected([g.query.text for g in chunk], [g.agent_names for g in chunk]) if prior else None
            probs.extend(self._predict_items(graph_arrays_many(chunk, self.lexicon, known, task)))
            if task is None:
                expected.extend({} for _ in chunk)
            else:
                expected.extend(
                    {a: float(v) for a, v in zip(g.agent_names, row, strict=True)} for g, row in zip(chunk, task)
                )
        trained = {a.name for a in self.agents}
        held = [unproven_agents(g, trained) if self.hold_unproven else [] for g in graphs]
        probs = [hold_at_weakest(p, h) if h else p for p, h in zip(probs, held, strict=True)]
        return probs, expected, held

    def _predict_items(self, items: Sequence[GraphArrays]) -> list[dict[str, float]]:
        assert self.models and self.in_dims is not None
        expected = self.in_dims["query"] - (feature_dims(0)["query"])
        for it in items:
            if it.embed_dim != expected:
                raise ValueError(
                    f"query graph embeddings have width {it.embed_dim} but the router was trained on {expected}; "
                    f"build graphs with the training embedder ({self.embedder_config or 'unknown'})"
                )
        with_agents = [it for it in items if it.agent_names]
        probs: list[np.ndarray] = []
        if with_agents:
            data = pack(with_agents).to(self.device)
            index, n = data.batch["agent"], data.num_graphs
            logits = self._frozen_ensemble().logits(data)
            mean = cast(torch.Tensor, sum(segment_log_softmax(row, index, n).exp() for row in logits)) / len(logits)
            flat = mean.double().cpu().numpy()
            bounds = np.cumsum([0] + [len(it.agent_names) for it in with_agents])
            probs = [flat[bounds[i] : bounds[i + 1]] for i in range(len(with_agents))]
        result, p = [], iter(probs)
        for it in items:
            row = next(p) if it.agent_names else np.zeros(0)
            result.append({a: float(v) for a, v in zip(it.agent_names, row, strict=True)})
        return result

    def _frozen_ensemble(self) -> FrozenEnsemble:
        """The members stacked for fast inference (built on first use after ``fit``/``load``)."""
        if self._frozen is None:
            for m in self.models:
                m.eval()
            self._frozen = FrozenEnsemble(self.models).to(self.device)
        return self._frozen

    @property
    def selects_by_mass(self) -> bool:
        """Declared for ``calibrate --target-calls``: the set size follows ``mass`` (not top1, not top-k)."""
        return not self.top1 and self.k is None

    def select(self, probs: Mapping[str, float], k: int | None = None) -> list[str]:
        """The agents to call: exactly one for top1, top-k when ``k`` is set, else the mass rule.

        With ``prune`` (default), a mass-rule set whose other members together have no more probability than
        the top agent shrinks to that agent: a vote by probability could never overturn its answer (this is
        why two-agent sets are rare). The default vote weighs by reliability, which can; pruning by the
        reliability weights instead called fewer agents and scored less on MoRE (docs/results.md).
        """
        if not probs:
            return []
        if self.top1:
            return select_top_k(probs, 1)
        k = k if k is not None else self.k
        if k is not None:
            return select_top_k(probs, k)
        chosen = select_by_mass(probs, self.mass, cap=self.max_calls)
        if self.prune and len(chosen) > 1 and sum(probs[a] for a in chosen[1:]) <= probs[chosen[0]]:
            return chosen[:1]
        return chosen

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return self.route_many([graph], k)[0]

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]:
        decisions = []
        for probs, expected, held in zip(*self._predict(graphs), strict=True):
            selected = self.select(probs, k)
            top = ", ".join(f"{a} {probs[a]:.2f}" for a in sorted(probs, key=lambda a: -probs[a])[:3])
            if held and len(held) < len(probs):
                top += f"; held at the weakest known agent's probability, no history yet: {', '.join(held)}"
            decisions.append(
                RoutingDecision(
                    router=self.name,
                    probs=probs,
                    selected=selected,
                    rationale=f"GNN: {top}",
                    early_stop=self.early_stop and len(selected) > 1,
                    reliability=expected,
                )
            )
        return decisions

    # -- checkpoints ---------------------------------------------------------------------------------
    def save(self, path: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
        """Write weights, agent specs, embedder config and hyper-parameters (loadable with weights_only);
        ``extra`` (plain values, e.g. the guard's state) is stored too and comes back as ``router.extra``."""
        if not self.models or self.in_dims is None:
            raise NotTrainedError(f"{self.name} router is not trained: nothing to save")
        return save_checkpoint(
            path,
            {
                "name": self.name,
                "state_dicts": [m.state_dict() for m in self.models],
                "hparams": self.hparams(),
                "in_dims": dict(self.in_dims),
                "agents": [a.model_dump(mode="json") for a in self.agents],
                "embedder": self.embedder_config,
                "lexicon": self.lexicon.state() if self.lexicon is not None else None,
                "evidence_features": list(EVIDENCE_FEATURES[: self.n_evidence]),
                "task_prior": self.task_prior.state() if self.task_prior is not None else None,
                "extra": dict(extra if extra is not None else self.extra),
            },
        )

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> GNNRouter:
        """Rebuild the GNN of a checkpoint from ``save``; errors name the file and both format versions on
        mismatch. A checkpoint saved with the do-no-harm guard (``make_router("gnn")``, ``agentroute
        train``) is a warning here: this is the bare GNN, which routes without the guard; use
        ``agentroute.load_router("gnn", path)`` to get the router as it was saved."""
        router = cls.load_unguarded(path, device)
        if "guard" in router.extra:
            warnings.warn(
                f"{path} was saved with the do-no-harm guard; GNNRouter.load returns the bare GNN, which "
                f"routes without it: load_router({router.name!r}, path) restores the router as saved",
                UserWarning,
                stacklevel=2,
            )
        return router

    @classmethod
    def load_unguarded(cls, path: str | Path, device: str = "auto") -> GNNRouter:
        """The GNN of a checkpoint, without the guard it may have been saved with (``load_router`` wraps it
        again)."""
        body = load_checkpoint(path)
        features = list(body.get("evidence_features", []))
        if not features or features != list(EVIDENCE_FEATURES[: len(features)]):
            raise ValueError(f"{path}: checkpoint was written with different agent evidence features")
        router = cls(device=device, name=body["name"], **body["hparams"])
        router.n_evidence = len(features)  # older checkpoints read the first columns only
        router.embedder_config = body.get("embedder")
        router.in_dims = {k: int(v) for k, v in body["in_dims"].items()}
        router.agents = [AgentSpec.model_validate(a) for a in body["agents"]]
        router.lexicon = Lexicon.from_state(body["lexicon"]) if body.get("lexicon") else None
        router.task_prior = TaskPrior.from_state(body["task_prior"]) if body.get("task_prior") else None
        members = []
        for state in body["state_dicts"]:
            model = router._build_model()
            model.load_state_dict(state)
            members.append(model.to(router.device).eval())
        router.models = members
        router.extra = dict(body.get("extra") or {})
        return router


def _embedder_config(embedder: Any) -> dict[str, Any] | None:
    """An embedder's ``config()`` (or a config mapping as is), kept so checkpoints say how to embed."""
    if embedder is None:
        return None
    if isinstance(embedder, Mapping):
        return dict(embedder)
    if isinstance(embedder, str):
        return {"name": embedder}
    config = getattr(embedder, "config", None)
    return dict(config()) if callable(config) else None


def make_gnn_router(seed: int = 0, **options: Any) -> GNNRouter:
    """The set-selecting GNN router (mass rule, capped; or top-k with ``k``)."""
    return GNNRouter(seed, **options)


def make_gnn_top1_router(seed: int = 0, **options: Any) -> GNNRouter:
    """The GNN router that calls exactly one agent."""
    options.pop("top1", None)
    return GNNRouter(seed, top1=True, **options)


# what the factories' ``**options`` are, so ``--options`` values are checked against its field types
make_gnn_router.options_type = make_gnn_top1_router.options_type = GNNConfig  # type: ignore[attr-defined]
