"""``TaskPrior``: what a question's task says about each agent, learned from the training log's task labels.

Why: routing logs usually say which task (dataset) each training question came from, and which agent
suits a question depends on its task far more often than on anything finer. Twelve task labels are a much
denser training signal than four noisy 0/1 scores per question, so a small classifier learns to recognise
the task from the question's words and form better than the router learns it from the scores alone.
The prior turns that into one number per agent: its expected score, sum over tasks t of
P(t | question) x (the agent's mean score on t in training). The GNN reads it as agent evidence
(``gnn/features.py``), beside the evidence from similar past questions, and learns how far to trust it.

Only training questions need labels: at routing time the question text is all it reads. The classifier is
a multinomial logistic regression over the question's TF-IDF terms (``text/lexical.py``, case kept) and its
surface features (``text/surface.py``), fitted full-batch with L-BFGS on the CPU (a few seconds). Training
examples get *cross-fitted* expectations (each from a classifier that never saw that question), so the GNN
learns how reliable the prior is on questions it has not seen, not how well it memorised the training set.
"""

from __future__ import annotations

import threading
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from agentroute.routers.text.lexical import Lexicon
from agentroute.routers.text.surface import N_SURFACE, surface_features

#: fewer labelled questions than this per task (in at least two tasks) and the prior is not learned
MIN_PER_TASK = 5
#: a task's mean score per agent is shrunk towards the agent's overall mean as if by this many questions
SHRINK = 5.0
#: the classifier keeps at most this many term weights (terms x tasks): the most frequent terms, at most
#: ``MAX_TERMS``. Why: L-BFGS keeps up to 50 pairs of weight-sized vectors, so on RouteLLM (58 task labels,
#: 50,000 terms) a fit took 2.2 GB and 12.7 s; with 17,000 terms it took 1.2 GB and 5.0 s and recognised
#: the task as well (5-fold: 0.748 vs 0.747, NLL 1.03 vs 1.07). No other shared log reaches the budget.
MAX_WEIGHTS = 1_000_000
MAX_TERMS = 50_000


class TaskPrior:
    """P(task | question) from words and form, and each agent's mean score per task."""

    def __init__(
        self,
        tasks: Sequence[str],
        agents: Sequence[str],
        table: np.ndarray,
        lexicon: Lexicon,
        term_weights: np.ndarray,
        surface_weights: np.ndarray,
        bias: np.ndarray,
    ) -> None:
        self.tasks = list(tasks)
        self.agents = list(agents)
        self.table = np.asarray(table, dtype=np.float32)  # (tasks, agents) mean score
        self.lexicon = lexicon
        self.term_weights = np.asarray(term_weights, dtype=np.float32)  # (terms, tasks)
        self.surface_weights = np.asarray(surface_weights, dtype=np.float32)  # (N_SURFACE, tasks)
        self.bias = np.asarray(bias, dtype=np.float32)  # (tasks,)
        self._agent_index = {a: i for i, a in enumerate(self.agents)}
        self._fallback = float(np.mean(self.table)) if self.table.size else 0.0

    def __repr__(self) -> str:
        return f"TaskPrior(tasks={len(self.tasks)}, agents={len(self.agents)}, terms={len(self.lexicon)})"

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        tasks: Sequence[str | None],
        scores: Sequence[dict[str, float]],
        l2: float = 0.1,
        max_iter: int = 50,
    ) -> TaskPrior | None:
        """Fit on the labelled questions; None when fewer than two tasks have ``MIN_PER_TASK`` of them."""
        counts = Counter(t for t in tasks if t)
        names = sorted(t for t, c in counts.items() if c >= MIN_PER_TASK)
        if len(names) < 2:
            return None
        index = {t: k for k, t in enumerate(names)}
        rows = [i for i, t in enumerate(tasks) if t in index]
        cap = min(MAX_TERMS, MAX_WEIGHTS // len(names))
        lexicon = Lexicon.fit([texts[i] for i in rows], min_df=2, max_terms=cap)
        labels = torch.tensor([index[tasks[i]] for i in rows])  # type: ignore[index]
        term_w, surf_w, bias = _fit_softmax(lexicon, [texts[i] for i in rows], labels, len(names), l2, max_iter)
        agents = sorted({a for s in scores for a in s})
        table = np.zeros((len(names), len(agents)), dtype=np.float64)
        overall = {a: np.mean([s[a] for s in scores if a in s]) for a in agents}
        for k, t in enumerate(names):
            members = [scores[i] for i in rows if tasks[i] == t]
            for j, a in enumerate(agents):
                seen = [s[a] for s in members if a in s]  # shrunk towards the agent's overall mean
                table[k, j] = (sum(seen) + SHRINK * overall[a]) / (len(seen) + SHRINK)
        return cls(names, agents, table, lexicon, term_w, surf_w, bias)

    def task_probs(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), tasks) P(task | question), the whole batch at once."""
        ids, weights, rows = _encode(self.lexicon, texts)
        logits = _surface(texts) @ self.surface_weights + self.bias
        np.add.at(logits, rows, weights[:, None] * self.term_weights[ids])
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def expected(self, texts: Sequence[str], agents: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Per question, the expected score of each of its agents (agents the prior never saw: the mean)."""
        by_agent = np.append(self.task_probs(texts) @ self.table, np.full((len(texts), 1), self._fallback), axis=1)
        unknown = len(self.agents)  # the appended column
        return [
            row[[self._agent_index.get(a, unknown) for a in names]].astype(np.float32)
            for row, names in zip(by_agent, agents, strict=True)
        ]

    def state(self) -> dict[str, Any]:
        """Plain containers and tensors for a checkpoint.

        The weights are tensors, not lists: terms x tasks runs into millions of numbers (50,000 terms x 58
        MMLU subjects on RouteLLM), which as Python floats made the checkpoint take seconds to save, hash
        and load. Checkpoints that hold them as lists still load."""
        return {
            "tasks": self.tasks,
            "agents": self.agents,
            "table": torch.from_numpy(self.table.copy()),
            "lexicon": self.lexicon.state(),
            "term_weights": torch.from_numpy(self.term_weights.copy()),
            "surface_weights": torch.from_numpy(self.surface_weights.copy()),
            "bias": torch.from_numpy(self.bias.copy()),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TaskPrior:
        n_tasks = len(state["tasks"])
        return cls(
            state["tasks"],
            state["agents"],
            _array(state["table"]).reshape(n_tasks, len(state["agents"])),
            Lexicon.from_state(state["lexicon"]),
            _array(state["term_weights"]).reshape(-1, n_tasks),
            _array(state["surface_weights"]).reshape(N_SURFACE, n_tasks),
            _array(state["bias"]),
        )


def _array(value: Any) -> np.ndarray:
    """A checkpoint's tensor (or, from older checkpoints, nested list) as float32."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().astype(np.float32)
    return np.asarray(value, dtype=np.float32)


def _encode(lexicon: Lexicon, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every text's TF-IDF entries as flat (term ids, weights, text index) arrays, texts in order."""
    encoded = [lexicon.encode(t) for t in texts]
    ids = np.concatenate([np.zeros(0, np.int64), *(e[0] for e in encoded)]).astype(np.int64)
    weights = np.concatenate([np.zeros(0, np.float32), *(e[1] for e in encoded)]).astype(np.float32)
    rows = np.repeat(np.arange(len(texts)), [len(e[0]) for e in encoded])
    return ids, weights, rows


def _surface(texts: Sequence[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, N_SURFACE), dtype=np.float32)
    return np.stack([surface_features(t) for t in texts]).astype(np.float32).reshape(len(texts), N_SURFACE)


def _fit_softmax(
    lexicon: Lexicon, texts: Sequence[str], labels: torch.Tensor, n_tasks: int, l2: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multinomial logistic regression, L2-penalised (``l2`` / n on the weights), by full-batch L-BFGS."""
    flat_ids, flat_weights, rows = _encode(lexicon, texts)
    terms = _SparseProduct(flat_ids, flat_weights, rows, len(texts), max(len(lexicon), 1))
    surface = torch.from_numpy(_surface(texts))
    term_w = torch.zeros((max(len(lexicon), 1), n_tasks), requires_grad=True)
    surf_w = torch.zeros((N_SURFACE, n_tasks), requires_grad=True)
    bias = torch.zeros(n_tasks, requires_grad=True)
    opt = torch.optim.LBFGS([term_w, surf_w, bias], max_iter=max_iter, line_search_fn="strong_wolfe")
    penalty = l2 / len(texts)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        logits = terms(term_w) + surface @ surf_w + bias
        loss = F.cross_entropy(logits, labels) + penalty * (term_w.pow(2).sum() + surf_w.pow(2).sum())
        loss.backward()
        return loss

    opt.step(closure)
    return term_w.detach().numpy(), surf_w.detach().numpy(), bias.detach().numpy()


class _SparseProduct:
    """``X @ W`` for the texts' TF-IDF matrix X, differentiable in W, with X and its transpose held as CSR.

    Why not ``embedding_bag``: its backward scatters into the whole (terms x tasks) gradient one entry at a
    time, and L-BFGS calls it some sixty times per fit; the CSR products were 2.5-4x faster (RouteLLM's
    50,000 terms x 58 tasks) and give the same gradient."""

    def __init__(self, ids: np.ndarray, weights: np.ndarray, rows: np.ndarray, n_rows: int, n_cols: int) -> None:
        by_col = np.argsort(ids, kind="stable")  # the entries in column order, for the transpose
        self.matrix = _csr(rows, ids, weights, (n_rows, n_cols))
        self.transposed = _csr(ids[by_col], rows[by_col], weights[by_col], (n_cols, n_rows))

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return _Product.apply(w, self.matrix, self.transposed)


class _Product(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, w: torch.Tensor, matrix: torch.Tensor, transposed: torch.Tensor) -> torch.Tensor:
        ctx.transposed = transposed
        return matrix @ w

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return ctx.transposed @ grad, None, None


_CSR_MADE = threading.Event()  # torch warns that CSR is beta once per process, when the first one is made


def _csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    """A CSR tensor from entries sorted by row. torch's warning that CSR is beta is not the user's concern,
    and it comes once per process: only the first tensor is made with it silenced, since silencing
    (``warnings.catch_warnings``) can reset filters other threads set meanwhile. COO tensors, which do not
    warn, made the task prior's fit twice as slow (LLMRouter's training log: 1.4 s -> 2.6 s)."""
    crow = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))]).astype(np.int64)
    parts = (
        torch.from_numpy(crow),
        torch.from_numpy(np.ascontiguousarray(cols, dtype=np.int64)),
        torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)),
    )
    if _CSR_MADE.is_set():
        return torch.sparse_csr_tensor(*parts, shape, check_invariants=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        made = torch.sparse_csr_tensor(*parts, shape, check_invariants=False)
    _CSR_MADE.set()
    return made


def cross_fitted(
    texts: Sequence[str],
    tasks: Sequence[str | None],
    scores: Sequence[dict[str, float]],
    agents: Sequence[Sequence[str]],
    folds: int = 5,
    seed: int = 0,
) -> tuple[TaskPrior | None, list[np.ndarray] | None]:
    """The prior fitted on everything (for routing) and, per question, expectations from a prior fitted
    without it (for training the router); (None, None) when the labels cannot support a prior."""
    full = TaskPrior.fit(texts, tasks, scores)
    if full is None:
        return None, None
    fold_of = np.random.default_rng(seed).permutation(len(texts)) % folds
    out: list[np.ndarray | None] = [None] * len(texts)
    for k in range(folds):
        held: list[int] = np.flatnonzero(fold_of == k).tolist()
        kept: list[int] = np.flatnonzero(fold_of != k).tolist()
        prior = TaskPrior.fit([texts[i] for i in kept], [tasks[i] for i in kept], [scores[i] for i in kept])
        prior = prior if prior is not None else full
        for i, e in zip(held, prior.expected([texts[i] for i in held], [agents[i] for i in held]), strict=True):
            out[i] = e
    return full, out  # type: ignore[return-value]
