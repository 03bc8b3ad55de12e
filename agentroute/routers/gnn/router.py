"""``GNNRouter``: fit on routing history, route query graphs, save and load; registered as "gnn" and
"gnn-top1".

"gnn" selects the smallest most-probable set of agents whose mass reaches ``mass`` (at most
``max_calls``), or the top ``k`` when ``k`` is given; the downstream weighted vote then merges their
answers. "gnn-top1" always calls exactly one agent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agentroute.routers.base import BaseRouter, register_router, select_by_mass, select_top_k
from agentroute.routers.gnn.checkpoint import load_checkpoint, save_checkpoint
from agentroute.routers.gnn.data import GraphArrays, collate, feature_dims, graph_arrays
from agentroute.routers.gnn.features import EVIDENCE_FEATURES
from agentroute.routers.gnn.model import GNNScorer, segment_log_softmax
from agentroute.routers.gnn.targets import target_distribution
from agentroute.routers.gnn.train import Examples, TrainConfig, TrainReport, train_model
from agentroute.types import AgentSpec, QueryGraph, RoutingDecision, TrainExample

_MODEL_OPTIONS = ("hidden", "layers", "heads", "dropout", "input_dropout")
_TRAIN_OPTIONS = (
    "epochs", "batch_size", "lr", "weight_decay", "patience", "val_fraction", "aux_weight", "ema", "time_limit_s"
)
_TARGET_OPTIONS = ("tau", "smoothing", "lambda_cost")
_SELECT_OPTIONS = ("mass", "max_calls", "k", "top1")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when available; asking for CUDA without it is an error, not a silent fallback."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {name!r} requested but CUDA is not available here; use device='cpu' or 'auto'"
        )
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {name!r}: expected 'auto', 'cpu' or 'cuda'")
    return dev


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run with at most ``n`` intra-op CPU threads, restoring the previous setting afterwards.

    Why: these graphs are small, so intra-op parallelism gains little, and when other processes compete
    for the cores, OpenMP threads waiting on each other made training 50-100x slower in our measurements.
    """
    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class GNNRouter(BaseRouter):
    """AgentRouter-style heterogeneous GNN router (see ``model.py`` for the architecture)."""

    name = "gnn"

    def __init__(
        self,
        seed: int = 0,
        *,
        device: str = "auto",
        hidden: int = 128,
        layers: int = 2,
        heads: int = 2,
        dropout: float = 0.1,
        input_dropout: float = 0.0,
        epochs: int = 40,
        batch_size: int = 128,
        lr: float = 1e-3,
        weight_decay: float = 0.01,
        patience: int = 6,
        val_fraction: float = 0.1,
        aux_weight: float = 0.0,
        ema: float = 0.0,
        time_limit_s: float | None = None,
        tau: float = 0.25,
        smoothing: float = 1e-3,
        lambda_cost: float = 0.0,
        mass: float = 0.7,
        max_calls: int | None = 3,
        k: int | None = None,
        top1: bool = False,
        embedder: Any = None,
        num_threads: int | None = 1,
        name: str | None = None,
    ) -> None:
        self.seed = seed
        self.device = resolve_device(device)
        self.hidden, self.layers, self.heads, self.dropout = hidden, layers, heads, dropout
        self.input_dropout, self.aux_weight, self.ema = input_dropout, aux_weight, ema
        self.epochs, self.batch_size, self.lr, self.weight_decay = epochs, batch_size, lr, weight_decay
        self.patience, self.val_fraction, self.time_limit_s = patience, val_fraction, time_limit_s
        self.tau, self.smoothing, self.lambda_cost = tau, smoothing, lambda_cost
        self.mass, self.max_calls, self.k, self.top1 = mass, max_calls, k, top1
        self.embedder_config: dict[str, Any] | None = _embedder_config(embedder)
        self.num_threads = num_threads
        self.name = name or ("gnn-top1" if top1 else "gnn")
        self.model: GNNScorer | None = None
        self.in_dims: dict[str, int] | None = None
        self.agents: list[AgentSpec] = []
        self.report: TrainReport | None = None

    # -- options -------------------------------------------------------------------------------------
    def hparams(self) -> dict[str, Any]:
        """Every option except device and embedder, as plain values (saved in checkpoints)."""
        keys = ("seed", *_MODEL_OPTIONS, *_TRAIN_OPTIONS, *_TARGET_OPTIONS, *_SELECT_OPTIONS)
        return {key: getattr(self, key) for key in keys}

    def _build_model(self) -> GNNScorer:
        assert self.in_dims is not None
        return GNNScorer(self.in_dims, **{key: getattr(self, key) for key in _MODEL_OPTIONS})

    # -- training ------------------------------------------------------------------------------------
    def fit(self, examples: Sequence[TrainExample], embedder: Any = None) -> GNNRouter:
        """Train on examples (graphs built from training history + the agents' recorded scores)."""
        if not examples:
            raise ValueError("GNNRouter.fit needs at least one training example")
        if embedder is not None:
            self.embedder_config = _embedder_config(embedder)
        items = [graph_arrays(ex.graph) for ex in examples]
        dims = {it.embed_dim for it in items}
        if len(dims) != 1:
            raise ValueError(f"training graphs have different embedding widths {sorted(dims)}")
        self.in_dims = feature_dims(dims.pop())
        data = Examples(items, [], [], [])
        for ex in examples:
            names = ex.graph.agent_names
            t, m = target_distribution(names, ex.scores, ex.costs, self.tau, self.smoothing, self.lambda_cost)
            data.targets.append(t)
            data.masks.append(m)
            data.scores.append(np.array([float(ex.scores.get(a) or 0.0) for a in names], dtype=np.float32))
        specs: dict[str, AgentSpec] = {}
        for ex in examples:
            for spec in ex.graph.agents:
                specs.setdefault(spec.name, spec)
        self.agents = list(specs.values())
        config = TrainConfig(**{key: getattr(self, key) for key in _TRAIN_OPTIONS})
        with torch_threads(self.num_threads):
            self.model, self.report = train_model(self._build_model, data, config, self.device, self.seed)
        return self

    # -- routing -------------------------------------------------------------------------------------
    @torch.inference_mode()
    def predict_proba(self, graphs: Sequence[QueryGraph], batch_size: int = 1024) -> list[dict[str, float]]:
        """Agent -> probability for each graph (softmax over that graph's own candidate agents)."""
        if self.model is None or self.in_dims is None:
            raise RuntimeError(f"{self.name} router is not trained: call fit() or GNNRouter.load() first")
        out: list[dict[str, float]] = []
        with torch_threads(self.num_threads):
            for s in range(0, len(graphs), batch_size):
                items = [graph_arrays(g) for g in graphs[s : s + batch_size]]
                out.extend(self._predict_items(items))
        return out

    def _predict_items(self, items: Sequence[GraphArrays]) -> list[dict[str, float]]:
        assert self.model is not None and self.in_dims is not None
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
            data = collate(with_agents).to(self.device)
            logits = self.model(data)
            logp = segment_log_softmax(logits, data["agent"].batch, data.num_graphs)
            flat = logp.exp().double().cpu().numpy()
            bounds = np.cumsum([0] + [len(it.agent_names) for it in with_agents])
            probs = [flat[bounds[i] : bounds[i + 1]] for i in range(len(with_agents))]
        result, p = [], iter(probs)
        for it in items:
            row = next(p) if it.agent_names else np.zeros(0)
            result.append({a: float(v) for a, v in zip(it.agent_names, row, strict=True)})
        return result

    def select(self, probs: Mapping[str, float], k: int | None = None) -> list[str]:
        """The agents to call: exactly one for top1, top-k when ``k`` is set, else the mass rule."""
        if not probs:
            return []
        if self.top1:
            return select_top_k(probs, 1)
        k = k if k is not None else self.k
        if k is not None:
            return select_top_k(probs, k)
        return select_by_mass(probs, self.mass, cap=self.max_calls)

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return self.route_many([graph], k)[0]

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]:
        decisions = []
        for probs in self.predict_proba(graphs):
            selected = self.select(probs, k)
            top = ", ".join(f"{a} {probs[a]:.2f}" for a in sorted(probs, key=lambda a: -probs[a])[:3])
            decisions.append(
                RoutingDecision(router=self.name, probs=probs, selected=selected, rationale=f"GNN: {top}")
            )
        return decisions

    # -- checkpoints ---------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write weights, agent specs, embedder config and hyper-parameters (loadable with weights_only)."""
        if self.model is None or self.in_dims is None:
            raise RuntimeError(f"{self.name} router is not trained: nothing to save")
        return save_checkpoint(
            path,
            {
                "name": self.name,
                "state_dict": self.model.state_dict(),
                "hparams": self.hparams(),
                "in_dims": dict(self.in_dims),
                "agents": [a.model_dump(mode="json") for a in self.agents],
                "embedder": self.embedder_config,
                "evidence_features": list(EVIDENCE_FEATURES),
            },
        )

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> GNNRouter:
        """Rebuild a router from ``save``; errors name the file and both format versions on mismatch."""
        body = load_checkpoint(path)
        if list(body.get("evidence_features", [])) != list(EVIDENCE_FEATURES):
            raise ValueError(f"{path}: checkpoint was written with different agent evidence features")
        router = cls(device=device, name=body["name"], **body["hparams"])
        router.embedder_config = body.get("embedder")
        router.in_dims = {k: int(v) for k, v in body["in_dims"].items()}
        router.agents = [AgentSpec.model_validate(a) for a in body["agents"]]
        model = router._build_model()
        model.load_state_dict(body["state_dict"])
        router.model = model.to(router.device).eval()
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


@register_router("gnn")
def make_gnn_router(seed: int = 0, **options: Any) -> GNNRouter:
    """The set-selecting GNN router (mass rule, capped; or top-k with ``k``)."""
    return GNNRouter(seed, **options)


@register_router("gnn-top1")
def make_gnn_top1_router(seed: int = 0, **options: Any) -> GNNRouter:
    """The GNN router that calls exactly one agent."""
    options.pop("top1", None)
    return GNNRouter(seed, top1=True, **options)
