"""Benchmark results as pydantic models, and their renderings: JSON, Markdown, PNG plots, a rich table."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from rich.table import Table


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


class BenchReport(BaseModel):
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
    hindsight_agent: str = ""  # best agent on the test questions, chosen after the fact
    hindsight_best: float = 0.0
    agents: list[str] = Field(default_factory=list)
    qids: list[str] = Field(default_factory=list)  # the log's ids of the evaluated questions, in test order
    fold_of: list[int] = Field(default_factory=list)  # fold index of each entry of qids
    skipped: int = 0  # rows with no scored agent (cannot be evaluated)
    dropped_overlap: int = 0  # test rows dropped because their question also appears in train
    seconds_graphs: float = 0.0  # building graphs and training examples, shared by all routers

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
                }
                for r in self.results
            ],
        }


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
            f"{r.seconds:.1f}",
        ]
        for r in report.results
    ]


_HEADERS = ["router", "accuracy", "95% CI", "calls/query", "cost/query", "gap closed", "seconds"]


def _caption(report: BenchReport) -> str:
    return (
        f"n={report.n}, folds={report.folds}, best single={report.best_single:.3f} "
        f"({report.best_single_agent}), oracle={report.oracle:.3f}, best in hindsight="
        f"{report.hindsight_best:.3f} ({report.hindsight_agent}), embedder={report.embedder}, "
        f"seed={report.seed}"
    )


def report_markdown(report: BenchReport) -> str:
    lines = [f"# {report.title}", "", _caption(report), ""]
    lines.append("| " + " | ".join(_HEADERS) + " |")
    lines.append("|" + "|".join("---" for _ in _HEADERS) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in _rows(report)]
    lines += [
        "",
        "Gap closed = (accuracy − best single) / (oracle − best single). The oracle reads the "
        "recorded scores (evaluation only). An answer scores what the executed agents that gave it "
        "scored (the max); where a log has no predictions, the top-weighted executed agent's score "
        "(the mean when several tie). Cost is – when the log has no per-call dollar cost. Seconds are "
        "training plus routing; routers trained identically (gnn and gnn-top1) share one training, "
        "counted under the first.",
        "",
    ]
    return "\n".join(lines)


def report_table(report: BenchReport) -> Table:
    """The results table for the CLI."""
    table = Table(title=report.title, caption=_caption(report))
    for h in _HEADERS:
        table.add_column(h, justify="left" if h == "router" else "right")
    for row in _rows(report):
        table.add_row(*row)
    return table


def _plot_accuracy(report: BenchReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for r in report.results:
        ax.scatter(r.calls_per_query, r.accuracy, s=40)
        ax.errorbar(
            r.calls_per_query,
            r.accuracy,
            yerr=[[r.accuracy - r.ci_low], [r.ci_high - r.accuracy]],
            fmt="none",
            alpha=0.5,
        )
        ax.annotate(r.router, (r.calls_per_query, r.accuracy), textcoords="offset points", xytext=(5, 4))
    ax.axhline(
        report.best_single, linestyle="--", color="grey", label=f"best single {report.best_single:.3f}"
    )
    ax.axhline(report.oracle, linestyle=":", color="black", label=f"oracle {report.oracle:.3f}")
    ax.set_xlabel("agent calls per query")
    ax.set_ylabel("accuracy")
    ax.set_title(report.title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_choice(report: BenchReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    routers = [r.router for r in report.results if r.router in report.agent_choice]
    agents = report.agents or sorted({a for c in report.agent_choice.values() for a in c})
    grid = np.array([[report.agent_choice[r].get(a, 0.0) for a in agents] for r in routers]).reshape(
        len(routers), len(agents)
    )
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * max(len(agents), 2), 1.2 + 0.5 * max(len(routers), 2)))
    im = ax.imshow(grid, vmin=0.0, vmax=1.0, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(agents)), agents, rotation=40, ha="right")
    ax.set_yticks(range(len(routers)), routers)
    for i in range(len(routers)):
        for j in range(len(agents)):
            ax.text(
                j,
                i,
                f"{grid[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if grid[i, j] > 0.6 else "black",
            )
    ax.set_title("share of questions on which each agent is chosen")
    fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(report: BenchReport, out_dir: str | Path) -> list[Path]:
    """Write report.json (everything), report.md (the table) and two PNG plots; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "report.json", out / "report.md", out / "accuracy_vs_calls.png", out / "agent_choice.png"]
    paths[0].write_text(report.model_dump_json(indent=2), encoding="utf-8")
    paths[1].write_text(report_markdown(report), encoding="utf-8")
    _plot_accuracy(report, paths[2])
    _plot_choice(report, paths[3])
    return paths
