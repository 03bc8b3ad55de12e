"""Write a benchmark report to a folder: ``report.json`` (everything), ``report.md`` (the tables) and the
plots. Apart from ``report.py`` (the model and its renderings) so that the report imports no plotting and
no curve code, which both read the report."""

from __future__ import annotations

from pathlib import Path

from agentroute.atomic import atomic_write_text
from agentroute.bench.curve_report import curves_markdown, plot_curves
from agentroute.bench.plots import accuracy_figure, choice_figure, save
from agentroute.bench.report import BenchReport, report_markdown


def write_report(report: BenchReport, out_dir: str | Path) -> list[Path]:
    """Write report.json (everything), report.md (the table) and two PNG plots (more with curves); returns
    the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "report.json", out / "report.md", out / "accuracy_vs_calls.png", out / "agent_choice.png"]
    atomic_write_text(paths[0], report.model_dump_json(indent=2))
    markdown = report_markdown(report)
    if report.curves:
        markdown += "\n" + curves_markdown(report)
        paths += plot_curves(report, out)
    atomic_write_text(paths[1], markdown)
    save(accuracy_figure(report), paths[2])
    save(choice_figure(report), paths[3])
    return paths
