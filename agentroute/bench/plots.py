"""The benchmark plots: accuracy against agent calls, and which agent each router chooses.

Why this shape: most routers call one agent, so their points sit on one vertical line; labels written
next to the points pile on top of each other. Each router therefore gets its own marker and a legend entry
(name, accuracy, calls) instead, one-call points are spread a little sideways so none hides another, and
the x axis is logarithmic and bounded by the routers' own call counts, so the region where they differ
fills the plot. Every plot's title names the log, the embedder and the number of questions.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from agentroute.bench.report import BenchReport

_MARKERS = "osD^vP*XhpH<>d8"


def plot_title(report: BenchReport, what: str) -> str:
    """``what`` plus the log (the report title), embedder and size, on two lines."""
    return f"{what} — {report.title}\nembedder {report.embedder}, n={report.n} questions, folds={report.folds}"


def new_figure(figsize: tuple[float, float]) -> Any:
    """A figure drawn without pyplot: no backend is chosen for the process and no figure is kept open."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)  # draws to PNG; the canvas attaches itself to the figure
    return fig


def dodge(calls: list[float], width: float = 0.06) -> list[float]:
    """x positions (log space) that spread routers with the same call count side by side."""
    groups: dict[float, list[int]] = {}
    for i, c in enumerate(calls):
        groups.setdefault(round(c, 2), []).append(i)
    out = list(calls)
    for members in groups.values():
        n = len(members)
        for rank, i in enumerate(members):
            offset = (rank - (n - 1) / 2) * width / max(n - 1, 1) if n > 1 else 0.0
            out[i] = calls[i] * math.exp(offset)
    return out


def accuracy_figure(report: BenchReport) -> Any:
    """Accuracy (with 95% intervals) against calls per query, one marker and legend entry per router."""
    results = report.results
    fig = new_figure((8.5, 4.8))
    ax = fig.subplots()
    calls = [max(r.calls_per_query, 1e-3) for r in results]
    xs = dodge(calls, width=max(0.06, 0.12 * math.log(max(calls) / min(calls))))
    for i, (r, x) in enumerate(zip(results, xs, strict=True)):
        ax.errorbar(
            x,
            r.accuracy,
            yerr=[[r.accuracy - r.ci_low], [r.ci_high - r.accuracy]],
            fmt=_MARKERS[i % len(_MARKERS)],
            markersize=7,
            capsize=3,
            label=f"{r.router}: {r.accuracy:.3f}, {r.calls_per_query:.2f} calls",
        )
    ax.axhline(report.best_single, linestyle="--", color="grey", label=f"best single {report.best_single:.3f}")
    ax.axhline(report.oracle, linestyle=":", color="black", label=f"oracle {report.oracle:.3f}")
    ax.set_xscale("log")
    low, high = min(xs), max(xs)
    ax.set_xlim(low / 1.1, high * 1.1)
    ticks = sorted({round(r.calls_per_query, 2) for r in results})
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("agent calls per query (log scale; equal call counts drawn side by side)")
    ax.set_ylabel("accuracy")
    ax.set_title(plot_title(report, "accuracy vs calls"), fontsize=10)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def choice_figure(report: BenchReport) -> Any:
    """Share of questions on which each router chooses each agent, as an annotated grid."""
    import numpy as np

    routers = [r.router for r in report.results if r.router in report.agent_choice]
    agents = report.agents or sorted({a for c in report.agent_choice.values() for a in c})
    grid = np.array([[report.agent_choice[r].get(a, 0.0) for a in agents] for r in routers]).reshape(
        len(routers), len(agents)
    )
    fig = new_figure((2.5 + 0.9 * max(len(agents), 2), 1.6 + 0.5 * max(len(routers), 2)))
    ax = fig.subplots()
    im = ax.imshow(grid, vmin=0.0, vmax=1.0, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(agents)), agents, rotation=40, ha="right")
    ax.set_yticks(range(len(routers)), routers)
    for i in range(len(routers)):
        for j in range(len(agents)):
            color = "white" if grid[i, j] > 0.6 else "black"
            ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=8, color=color)
    ax.set_title(plot_title(report, "share of questions each agent is chosen"), fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    return fig


def save(fig: Any, path: Path) -> None:
    fig.savefig(path, dpi=120, bbox_inches="tight")
