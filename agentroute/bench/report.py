"""Benchmark results as pydantic models, and their renderings: JSON, Markdown, PNG plots, a rich table."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field
from rich.table import Table

from agentroute.printing import literal


class Paired(BaseModel):
    """A router minus a reference on the same questions: mean difference, paired-bootstrap 95% interval,
    p-value (McNemar's exact test on 0/1 scores), and the questions it wins and loses."""

    against: str
    diff: float
    low: float
    high: float
    p: float
    wins: int = 0
    losses: int = 0

    @property
    def significant(self) -> bool:
        """The interval excludes 0."""
        return self.low > 0 or self.high < 0

    def brief(self) -> str:
        """Difference and reference, e.g. ``+0.041* all`` (* = interval excludes 0)."""
        return f"{self.diff:+.3f}{'*' if self.significant else ''} {self.against}"

    def short(self) -> str:
        mark = "*" if self.significant else ""
        return f"{self.diff:+.3f} [{self.low:+.3f}, {self.high:+.3f}]{mark}"


class RouterResult(BaseModel):
    """One router's outcome over every test question of every fold."""

    router: str
    accuracy: float
    ci_low: float
    ci_high: float
    calls_per_query: float
    cost_per_query: float | None = None
    gap_closed: float | None = None
    seconds: float = 0.0
    fold_accuracy: list[float] = Field(default_factory=list)
    scores: list[float] = Field(default_factory=list)  # per test question, in report.qids order
    vs_best_single: Paired | None = None
    vs_best_baseline: Paired | None = None
    guard: str | None = None  # what the do-no-harm guard decided per fold (learned routers)
    # TCAR's routing accuracy: of the questions some agent got right, the share where the agents called
    # include a best-scoring one (calling more is not penalised)
    set_hit: float | None = None


class BenchReport(BaseModel):
    """What a benchmark measured: per router a ``RouterResult`` (accuracy, calls, cost, paired comparisons),
    the reference points (best single, oracle, best in hindsight) and what each router chose; ``to_json``
    is ``report.json``, ``write_report`` writes it with the Markdown table and the plots."""

    title: str
    n: int
    folds: int
    best_single: float
    best_single_agent: str
    oracle: float
    embedder: str
    seed: int
    results: list[RouterResult]
    agent_choice: dict[str, dict[str, float]] = Field(default_factory=dict)
    aggregator: str = "weighted-vote"
    best_single_agents: list[str] = Field(default_factory=list)  # per fold, chosen by training mean
    hindsight_agent: str = ""  # best agent on the test rows, chosen after the fact (else the next best)
    hindsight_best: float = 0.0
    agents: list[str] = Field(default_factory=list)
    qids: list[str] = Field(default_factory=list)  # the log's ids of the evaluated questions, in test order
    fold_of: list[int] = Field(default_factory=list)  # fold index of each entry of qids
    tasks: list[str] = Field(default_factory=list)  # the log's ``dataset`` of each entry of qids ("" if none)
    skipped: int = 0  # rows with no scored agent (cannot be evaluated)
    dropped_overlap: int = 0  # test rows dropped because their question also appears in train
    seconds_graphs: float = 0.0  # building graphs and training examples, shared by all routers
    best_single_scores: list[float] = Field(default_factory=list)  # per question, the training-best agent
    curves: dict[str, Any] = Field(default_factory=dict)  # ``--sweep``: cost/calls curves, AIQ, APGR, CPT
    has_answers: bool = True  # whether the log records the agents' answers (``pred``) the vote reads

    def result(self, router: str) -> RouterResult:
        for r in self.results:
            if r.router == router:
                return r
        raise KeyError(f"no result for router {router!r}; have {', '.join(r.router for r in self.results)}")

    def to_json_summary(self) -> dict[str, Any]:
        """The compact machine-readable summary (``--json``)."""
        return {
            "n": self.n,
            "folds": self.folds,
            "best_single": self.best_single,
            "oracle": self.oracle,
            "results": [
                {
                    "router": r.router,
                    "accuracy": r.accuracy,
                    "calls_per_query": r.calls_per_query,
                    "cost_per_query": r.cost_per_query,
                    "vs_best_single": r.vs_best_single.model_dump() if r.vs_best_single else None,
                    "vs_best_baseline": r.vs_best_baseline.model_dump() if r.vs_best_baseline else None,
                    "guard": r.guard,
                }
                for r in self.results
            ],
            **({"curves": self.curve_summary()} if self.curves else {}),
        }

    def curve_summary(self) -> dict[str, Any]:
        """Per router: AIQ on the cost and calls axes and, on two-agent logs, APGR and CPT(50%/80%)."""
        two = self.curves.get("two_agent", {}).get("routers", {})
        out = {}
        for name, entry in self.curves.get("routers", {}).items():
            t = two.get(name, {})
            out[name] = {
                "aiq": entry.get("aiq"),
                "aiq_calls": entry.get("aiq_calls"),
                "apgr": t.get("apgr"),
                "cpt50": t.get("cpt50"),
                "cpt80": t.get("cpt80"),
            }
        return out


def _fmt(v: float | None, digits: int = 3) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _cost(v: float | None) -> str:
    return "–" if v is None else f"${v:.6f}"


def _rows(report: BenchReport) -> list[list[str]]:
    return [
        [
            r.router,
            _fmt(r.accuracy),
            f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]",
            _fmt(r.calls_per_query, 2),
            _cost(r.cost_per_query),
            _fmt(r.gap_closed, 2),
            r.vs_best_single.short() if r.vs_best_single else "–",
            r.vs_best_baseline.brief() if r.vs_best_baseline else "–",
            f"{r.seconds:.1f}",
        ]
        for r in report.results
    ]


_HEADERS = ["router", "accuracy", "95% CI", "calls", "$/query", "gap", "Δ best single [95% CI]", "Δ best baseline", "s"]


def _caption(report: BenchReport) -> str:
    caption = (
        f"n={report.n}, folds={report.folds}, best single={report.best_single:.3f} "
        f"({report.best_single_agent}), oracle={report.oracle:.3f}, best in hindsight="
        f"{report.hindsight_best:.3f} ({report.hindsight_agent}), embedder={report.embedder}, "
        f"seed={report.seed}"
    )
    if not report.has_answers and any(r.calls_per_query > 1 for r in report.results):
        caption += (
            "; the log records no answers (pred), so a router that calls several agents is scored on its "
            "top one: its extra calls cannot change its answer here"
        )
    return caption


def report_markdown(report: BenchReport) -> str:
    lines = [f"# {report.title}", "", _caption(report), ""]
    lines.append("| " + " | ".join(_HEADERS) + " |")
    lines.append("|" + "|".join("---" for _ in _HEADERS) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in _rows(report)]
    lines += [
        "",
        "calls = agent calls per question. Gap = gap closed = (accuracy − best single) / (oracle − best "
        "single). The oracle reads the "
        "recorded scores (evaluation only). An answer scores what the executed agents that gave it "
        "scored (the max); where a log has no predictions, the top-weighted executed agent's score "
        "(the mean when several tie). Cost is – when the log has no per-call dollar cost. Seconds are "
        "training plus routing; routers trained identically (gnn and gnn-top1) share one training, "
        "counted under the first. Δ columns: the router's accuracy minus best single's (the training-best "
        "agent per fold) and minus the most accurate baseline router's, on the same questions, with a "
        "paired-bootstrap 95% interval; * marks an interval that excludes 0.",
        "",
    ]
    paired = [r for r in report.results if r.vs_best_baseline]
    if paired:
        lines += ["| router | vs | Δ accuracy [95% CI] | p (McNemar / bootstrap) | wins / losses |"]
        lines.append("|---|---|---|---|---|")
        for r in paired:
            for p in (r.vs_best_single, r.vs_best_baseline):
                if p is not None:
                    p_text = "< 0.001" if p.p < 0.001 else f"{p.p:.3g}"  # a bootstrap p of 0 only means < 1/draws
                    lines.append(f"| {r.router} | {p.against} | {p.short()} | {p_text} | {p.wins} / {p.losses} |")
        lines.append("")
    hits = [r for r in report.results if r.set_hit is not None]
    if hits:
        lines += [
            "Routing accuracy as TCAR measures it (of the questions some agent got right, the share where the "
            "agents called include a best-scoring one; calling more is not penalised): "
            + ", ".join(f"`{r.router}` {r.set_hit:.3f}" for r in hits),
            "",
        ]
    lines += task_markdown(report)
    guarded = [r for r in report.results if r.guard]
    if guarded:
        lines += ["Do-no-harm guard (held-out part of each training fold):", ""]
        lines += [f"- `{r.router}`: {r.guard}" for r in guarded]
        lines.append("")
    return "\n".join(lines)


def by_task(report: BenchReport) -> dict[str, dict[str, float]]:
    """Task -> {"n", "best single", router: accuracy} on the questions of that task (empty if < 2 tasks)."""
    if len(set(report.tasks)) < 2 or len(report.tasks) != report.n:
        return {}
    out: dict[str, dict[str, float]] = {}
    for task in sorted(set(report.tasks)):
        idx = [i for i, t in enumerate(report.tasks) if t == task]
        row = {"n": float(len(idx))}
        if len(report.best_single_scores) == report.n:
            row["best single"] = sum(report.best_single_scores[i] for i in idx) / len(idx)
        for r in report.results:
            if len(r.scores) == report.n:
                row[r.router] = sum(r.scores[i] for i in idx) / len(idx)
        out[task] = row
    return out


def task_markdown(report: BenchReport) -> list[str]:
    """Accuracy per task (the log's ``dataset`` field): where a router wins and where it loses."""
    table = by_task(report)
    if not table:
        return []
    columns = [c for c in next(iter(table.values())) if c != "n"]
    lines = ["Accuracy by task (the log's `dataset` field; best single = the training-best agent of each fold):", ""]
    lines += ["| task | n | " + " | ".join(columns) + " |", "|" + "---|" * (len(columns) + 2)]
    for task, row in table.items():
        lines.append(f"| {task or '(none)'} | {int(row['n'])} | " + " | ".join(_fmt(row[c]) for c in columns) + " |")
    return [*lines, ""]


def report_table(report: BenchReport) -> Table:
    """The results table for the CLI."""
    table = Table(title=literal(report.title), caption=literal(_caption(report)))
    keep = [i for i, h in enumerate(_HEADERS) if h != "95% CI"]  # the Δ interval is the one to read here
    for i in keep:
        h = _HEADERS[i]
        table.add_column(h, justify="left" if h == "router" else "right", no_wrap=True)
    for row in _rows(report):
        table.add_row(*(literal(row[i]) for i in keep))
    return table
