from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from agentroute.bench.report import BenchReport, RouterResult, report_table
from agentroute.bench.write import write_report


def make_report() -> BenchReport:
    results = [
        RouterResult(
            router="knn",
            accuracy=0.55,
            ci_low=0.5,
            ci_high=0.6,
            calls_per_query=1.0,
            cost_per_query=0.002,
            gap_closed=0.25,
            seconds=1.5,
            scores=[1.0, 0.0],
        ),
        RouterResult(router="all", accuracy=0.52, ci_low=0.47, ci_high=0.57, calls_per_query=4.0),
    ]
    return BenchReport(
        title="toy bench",
        n=2,
        folds=2,
        best_single=0.5,
        best_single_agent="alpha",
        oracle=0.7,
        embedder="hashing",
        seed=0,
        results=results,
        agents=["alpha", "beta"],
        agent_choice={"knn": {"alpha": 0.8, "beta": 0.2}, "all": {"alpha": 1.0, "beta": 1.0}},
    )


def test_json_summary_has_exactly_the_documented_shape() -> None:
    summary = make_report().to_json_summary()
    assert set(summary) == {"n", "folds", "best_single", "oracle", "results"}
    none = {"vs_best_single": None, "vs_best_baseline": None, "guard": None}
    assert summary["results"] == [
        {"router": "knn", "accuracy": 0.55, "calls_per_query": 1.0, "cost_per_query": 0.002, **none},
        {"router": "all", "accuracy": 0.52, "calls_per_query": 4.0, "cost_per_query": None, **none},
    ]
    json.dumps(summary)


def test_write_report_writes_json_markdown_and_plots(tmp_path: Path) -> None:
    report = make_report()
    paths = write_report(report, tmp_path / "out")
    names = {p.name for p in paths}
    assert {"report.json", "report.md"} <= names and sum(n.endswith(".png") for n in names) == 2
    for p in paths:
        assert p.exists() and p.stat().st_size > 0
    for png in (p for p in paths if p.suffix == ".png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert BenchReport.model_validate_json((tmp_path / "out" / "report.json").read_text()) == report
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| knn | 0.550 | [0.500, 0.600] | 1.00 | $0.002000 | 0.25 |" in md
    assert "| all | 0.520 |" in md and "| – |" in md


def test_report_table_has_a_row_per_router() -> None:
    table = report_table(make_report())
    assert table.row_count == 2
    console = Console(width=200, record=True)
    console.print(table)
    text = console.export_text()
    assert "knn" in text and "0.550" in text and "oracle=0.700" in text


def test_plots_name_the_log_embedder_and_size_and_no_text_overlaps() -> None:
    from agentroute.bench.plots import accuracy_figure, choice_figure

    crowded = make_report()
    for i, name in enumerate(["gnn-top1", "mlp", "best-single", "random", "oracle"]):
        acc = 0.55 + 0.001 * i  # one-call routers a hair apart: their labels used to pile up
        crowded.results.append(
            RouterResult(router=name, accuracy=acc, ci_low=acc - 0.05, ci_high=acc + 0.05, calls_per_query=1.0)
        )
    fig = accuracy_figure(crowded)
    ax = fig.axes[0]
    assert "toy bench" in ax.get_title() and "hashing" in ax.get_title() and "n=2" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert all(any(label.startswith(r.router + ":") for label in labels) for r in crowded.results)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in [*ax.texts, *ax.get_legend().get_texts()] if t.get_text()]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    low, high = ax.get_xlim()
    assert 1 / 1.3 < low < 1 and 4 < high < 4 * 1.3  # bounded by the routers' own call counts
    xs = {float(line.get_xdata()[0]) for line in ax.lines if len(line.get_xdata()) == 1}
    assert len(xs) == len(crowded.results)  # one-call routers drawn side by side, none hidden
    assert "hashing" in choice_figure(crowded).axes[0].get_title()
