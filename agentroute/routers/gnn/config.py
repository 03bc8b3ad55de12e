"""``GNNConfig``: every option of the GNN router in one place (model, lexicon, training, targets, selection).

Why one dataclass: the router, its checkpoints, its training key and the registry factories all need the
same list of options; here it is written once, with its defaults and groups.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

#: Options that only change which agents are selected from the probabilities (not what is learned).
SELECTION = frozenset({"mass", "max_calls", "k", "top1", "prune", "early_stop", "hold_unproven"})


@dataclass
class TrainConfig:
    """How one ensemble member trains (``GNNConfig.train_config()`` fills it)."""

    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.01
    clip: float = 1.0
    patience: int = 6  # validations without improvement before stopping
    eval_steps: int = 50  # validate at least every this many optimiser steps (epochs split in equal parts)
    val_fraction: float = 0.1
    time_limit_s: float | None = None  # stop early (keeping the best weights) after this many seconds


@dataclass
class GNNConfig:
    # the model (model.py)
    hidden: int = 64
    layers: int = 2
    heads: int = 2
    dropout: float = 0.1
    input_dropout: float = 0.2
    # the query text through the router's own TF-IDF lexicon (text/lexical.py)
    lexical: bool = True
    lexicon_min_df: float = 0.005  # a fraction of the questions when < 1, else a count
    lexicon_max_terms: int = 50_000
    lexicon_dim: int = 4
    lexicon_dropout: float = 0.3
    # the task prior (task_prior.py): learned when the training examples carry task labels
    tasks: bool = True
    # learned ids for agents seen in training
    agent_ids: bool = True
    agent_id_dropout: float = 0.25
    # training (train.py); ``ensemble`` members with seeds derived from the router's seed
    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.01
    patience: int = 6  # validations without improvement
    eval_steps: int = 50  # epochs longer than this many steps are validated in parts (train.py)
    val_fraction: float = 0.1
    time_limit_s: float | None = None  # for the whole ensemble
    ensemble: int = 3
    # target distributions (targets.py)
    tau: float = 0.25
    smoothing: float = 1e-3
    lambda_cost: float = 0.0
    # selection (see GNNRouter.select)
    mass: float = 0.62
    max_calls: int | None = 3
    k: int | None = None
    top1: bool = False
    prune: bool = True
    early_stop: bool = True
    # an agent neither trained on nor scored on any similar past question gets the lowest probability of
    # the agents that were (unproven.py)
    hold_unproven: bool = True

    def __post_init__(self) -> None:
        if self.ensemble < 1:
            raise ValueError(f"ensemble must be >= 1 (got {self.ensemble})")

    @classmethod
    def names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def model_options(self) -> dict[str, Any]:
        """Keyword arguments of ``GNNScorer`` besides the input widths and the agent/lexicon sizes."""
        return {
            "hidden": self.hidden,
            "layers": self.layers,
            "heads": self.heads,
            "dropout": self.dropout,
            "input_dropout": self.input_dropout,
            "lexicon_dim": self.lexicon_dim,
            "lexicon_dropout": self.lexicon_dropout,
            "agent_id_dropout": self.agent_id_dropout,
        }

    def train_config(self) -> TrainConfig:
        """One member's training settings (the time limit is shared by the ensemble)."""
        limit = None if self.time_limit_s is None else self.time_limit_s / self.ensemble
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            patience=self.patience,
            eval_steps=self.eval_steps,
            val_fraction=self.val_fraction,
            time_limit_s=limit,
        )

    def training_options(self) -> dict[str, Any]:
        """Everything that shapes what is learned (all but the selection options)."""
        return {k: v for k, v in self.as_dict().items() if k not in SELECTION}
