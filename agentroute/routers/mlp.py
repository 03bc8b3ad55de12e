"""``mlp``: the simplest learned router over the query embedding (a baseline beside the GNN).

Kept apart from the other baselines because it needs torch, which they do not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from agentroute.routers.base import BaseRouter
from agentroute.routers.baselines import decide
from agentroute.seeded import seeded
from agentroute.types import QueryGraph, RoutingDecision, TrainExample


class MlpRouter(BaseRouter):
    """A small MLP from the query embedding to every training agent's score (sigmoid outputs, BCE loss
    masked to the scores that exist). Trained on CPU, seeded, with early stopping on a held-out slice.
    Agents unseen in training get the mean training score."""

    name = "mlp"
    learns_from_history = True

    def __init__(
        self,
        seed: int = 0,
        k: int = 1,
        hidden: int = 64,
        epochs: int = 60,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        dropout: float = 0.3,
        batch_size: int = 128,
        val_fraction: float = 0.1,
        patience: int = 5,
        temperature: float = 0.1,
    ) -> None:
        self.seed = seed
        self.k = k
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.patience = patience
        self.temperature = temperature
        self.agents: list[str] = []
        self.prior = 0.0
        self.model: nn.Module | None = None

    def fit(self, examples: Sequence[TrainExample]) -> MlpRouter:
        self.agents = sorted({a for ex in examples for a in ex.scores})
        if not examples or not self.agents:
            return self
        col = {a: j for j, a in enumerate(self.agents)}
        x = np.stack([np.asarray(ex.graph.query_vec, dtype=np.float32) for ex in examples])
        y = np.zeros((len(examples), len(self.agents)), dtype=np.float32)
        mask = np.zeros_like(y)
        for i, ex in enumerate(examples):
            for a, s in ex.scores.items():
                y[i, col[a]] = s
                mask[i, col[a]] = 1.0
        self.prior = float(y[mask > 0].mean())
        # (a model this small trains fastest on one thread: see ``agentroute.threads``)
        with seeded(self.seed):
            self.model = self._train(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(mask))
        return self

    def _train(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> nn.Module:
        model = nn.Sequential(
            nn.Linear(x.shape[1], self.hidden),
            nn.ReLU(),
            nn.Dropout(self.dropout),
            nn.Linear(self.hidden, y.shape[1]),
        )
        head = model[-1]
        assert isinstance(head, nn.Linear)
        with torch.no_grad():  # start from each agent's training mean, so training only has to learn deviations
            rate = ((y * mask).sum(0) / mask.sum(0).clamp(min=1.0)).clamp(0.02, 0.98)
            head.bias.copy_(torch.log(rate / (1 - rate)))
            head.weight.mul_(0.1)
        order = torch.randperm(len(x))
        n_val = int(len(x) * self.val_fraction) if len(x) >= 20 else 0
        val, tr = order[:n_val], order[n_val:]
        opt = torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loss_fn = nn.BCEWithLogitsLoss(reduction="none")

        def loss_on(idx: torch.Tensor) -> torch.Tensor:
            m = mask[idx]
            return (loss_fn(model(x[idx]), y[idx]) * m).sum() / m.sum().clamp(min=1.0)

        best, best_state, stale = math.inf, None, 0
        for _ in range(self.epochs):
            model.train()
            for batch in tr[torch.randperm(len(tr))].split(self.batch_size):
                opt.zero_grad()
                loss_on(batch).backward()
                opt.step()
            if n_val == 0:
                continue
            model.eval()
            with torch.no_grad():
                v = float(loss_on(val))
            if v < best - 1e-5:
                best, stale = v, 0
                best_state = {k: t.clone() for k, t in model.state_dict().items()}
            else:
                stale += 1
                if stale >= self.patience:
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
        return model.eval()

    def trained_agents(self) -> frozenset[str]:
        return frozenset(self.agents) if self.model is not None else frozenset()

    def predict(self, graphs: Sequence[QueryGraph]) -> list[dict[str, float]]:
        """Predicted score per candidate agent for each graph."""
        if self.model is None or not graphs:
            return [{a: self.prior for a in g.agent_names} for g in graphs]
        x = torch.from_numpy(np.stack([np.asarray(g.query_vec, dtype=np.float32) for g in graphs]))
        with torch.no_grad():
            out = torch.sigmoid(self.model(x)).numpy()
        col = {a: j for j, a in enumerate(self.agents)}
        return [
            {a: float(out[i, col[a]]) if a in col else self.prior for a in g.agent_names} for i, g in enumerate(graphs)
        ]

    def route(self, graph: QueryGraph, k: int | None = None) -> RoutingDecision:
        return self.route_many([graph], k)[0]

    def route_many(self, graphs: Sequence[QueryGraph], k: int | None = None) -> list[RoutingDecision]:
        return [decide(self.name, est, k or self.k, self.temperature) for est in self.predict(graphs)]
