"""The training loop: KL(p* || p) with AdamW, gradient clipping and early stopping on a seeded split.

Everything random (initialisation, the validation split, batch order, dropout) draws from generators seeded
here, inside ``agentroute.seeded`` (``torch.random.fork_rng``, one fit at a time), so two fits with one
seed give identical weights on CPU, in one thread or two, and the caller's global random state is left
untouched.

Early stopping counts validations, not epochs: an epoch of more than ``eval_steps`` optimiser steps is
validated in equal parts of at most that many steps. Why: on a large log one epoch is hundreds of steps, the
best weights came after 2-4 epochs, and waiting ``patience`` whole epochs more was most of the training
time (RouteLLM, 15,361 questions). Logs whose epochs fit in ``eval_steps`` are validated once per epoch.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import HeteroData
from torch_geometric.utils import scatter

from agentroute.routers.gnn.config import TrainConfig
from agentroute.routers.gnn.data import GraphArrays, collate
from agentroute.routers.gnn.model import GNNScorer, segment_log_softmax
from agentroute.seeded import seeded


@dataclass
class TrainReport:
    epochs_run: int = 0
    best_epoch: int = -1  # the epoch (0-based) in which the best validation fell
    best_val_loss: float = float("inf")
    seconds: float = 0.0
    history: list[tuple[float, float]] = field(default_factory=list)  # (train loss, val KL) per validation


@dataclass
class Batch:
    data: HeteroData
    target: Tensor  # (num_agent_nodes,) target probabilities
    mask: Tensor  # (num_agent_nodes,) agents that count in the loss

    def to(self, device: torch.device) -> Batch:
        if device.type == "cpu":
            return self
        return Batch(self.data.to(device), self.target.to(device), self.mask.to(device))


@dataclass
class Examples:
    """Training examples as arrays: graphs, target distributions and loss masks (aligned)."""

    items: list[GraphArrays]
    targets: list[np.ndarray]
    masks: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.items)

    def batch(self, index: Sequence[int] | np.ndarray) -> Batch:
        def cat(arrays: list[np.ndarray], dtype: type) -> Tensor:
            return torch.from_numpy(np.concatenate([arrays[i] for i in index]).astype(dtype))

        return Batch(
            data=collate([self.items[i] for i in index]),
            target=cat(self.targets, np.float32),
            mask=cat(self.masks, np.bool_),
        )


def kl_loss(logits: Tensor, batch: Batch) -> Tensor:
    """Mean over graphs (with at least one scored agent) of KL(p* || softmax(logits))."""
    index = batch.data["agent"].batch
    n = batch.data.num_graphs
    logp = segment_log_softmax(logits, index, n, batch.mask)
    valid = batch.mask & (batch.target > 0)
    safe_t = torch.where(valid, batch.target, torch.ones_like(batch.target))
    terms = torch.where(valid, batch.target * (safe_t.log() - logp), torch.zeros_like(logits))
    per_graph = scatter(terms, index, dim=0, dim_size=n, reduce="sum")
    has = scatter(batch.mask.float(), index, dim=0, dim_size=n, reduce="sum") > 0
    return per_graph[has].sum() / has.sum().clamp_min(1)


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) index split; no validation set below 10 examples."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_fraction)) if n >= 10 else 0
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def train_model(
    build_model: Callable[[], GNNScorer],
    examples: Examples,
    config: TrainConfig,
    device: torch.device,
    seed: int,
) -> tuple[GNNScorer, TrainReport]:
    """Build the model under ``seed`` and train it; returns the weights with the best validation KL."""
    start = time.perf_counter()
    report = TrainReport()
    fork_devices = [device.index or 0] if device.type == "cuda" else []
    with seeded(seed, fork_devices):
        model = build_model().to(device)
        optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        train_idx, val_idx = split_indices(len(examples), config.val_fraction, seed)
        chunks = np.array_split(val_idx, max(1, int(np.ceil(len(val_idx) / 1024))))
        val_batches = [examples.batch(chunk).to(device) for chunk in chunks if len(chunk)]
        rng = np.random.default_rng(seed + 1)
        best_state = copy.deepcopy(model.state_dict())
        steps = max(1, int(np.ceil(len(train_idx) / config.batch_size)))
        parts = max(1, int(np.ceil(steps / max(1, config.eval_steps))))  # validations per epoch
        ends = {int(np.ceil(steps * (k + 1) / parts)) for k in range(parts)}  # steps after which to validate
        stale = 0
        for epoch in range(config.epochs):
            model.train()
            order = train_idx[rng.permutation(len(train_idx))]
            total, count, stop = 0.0, 0, False
            for step, s in enumerate(range(0, len(order), config.batch_size), start=1):
                chunk = order[s : s + config.batch_size]
                batch = examples.batch(chunk).to(device)
                loss = kl_loss(model(batch.data), batch)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), config.clip)
                optimiser.step()
                total += loss.item() * len(chunk)
                count += len(chunk)
                if step not in ends:
                    continue
                train_loss = total / max(count, 1)
                total, count = 0.0, 0
                val_loss = evaluate_kl(model, val_batches) if val_batches else train_loss
                model.train()
                report.history.append((train_loss, val_loss))
                if val_loss < report.best_val_loss - 1e-5:
                    report.best_val_loss, report.best_epoch, stale = val_loss, epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    stale += 1
                elapsed = time.perf_counter() - start
                if stale >= config.patience or (config.time_limit_s is not None and elapsed > config.time_limit_s):
                    stop = True
                    break
            report.epochs_run = epoch + 1
            if stop:
                break
        model.load_state_dict(best_state)
    model.eval()
    report.seconds = time.perf_counter() - start
    return model, report


@torch.no_grad()
def evaluate_kl(model: GNNScorer, batches: Sequence[Batch]) -> float:
    """Validation KL, averaged over graphs with at least one scored agent."""
    model.eval()
    total, count = 0.0, 0
    for batch in batches:
        index, n = batch.data["agent"].batch, batch.data.num_graphs
        graphs = int((scatter(batch.mask.float(), index, dim=0, dim_size=n) > 0).sum())
        total += float(kl_loss(model(batch.data), batch)) * graphs
        count += graphs
    return total / max(count, 1)
