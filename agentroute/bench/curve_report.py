"""Renderings of ``bench run --sweep`` curves: a summary table, a Markdown section and two PNG plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

from agentroute.bench.plots import new_figure
from agentroute.bench.report import BenchReport

_HEADERS = ["router", "AIQ (cost)", "AIQ (calls)", "best acc ≤ 2.5 calls", "APGR", "CPT(50%)", "CPT(80%)"]


def _f(v: float | None, digits: int = 3, pct: bool = False) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.1f}%" if pct else f"{v:.{digits}f}"


def _best_within(curve: list[dict[str, float]], calls: float) -> float | None:
    ok = [p["accuracy"] for p in curve if p["calls"] <= calls + 1e-9]
    return max(ok) if ok else None


def curve_rows(report: BenchReport) -> list[list[str]]:
    curves: dict[str, Any] = report.curves
    two = curves.get("two_agent", {}).get("routers", {})
    rows = []
    for name, entry in curves.get("routers", {}).items():
        t = two.get(name, {})
        rows.append(
            [
                name,
                _f(entry.get("aiq")),
                _f(entry.get("aiq_calls")),
                _f(_best_within(entry["calls_curve"], 2.5)),
                _f(t.get("apgr")),
                _f(t.get("cpt50"), pct=True),
                _f(t.get("cpt80"), pct=True),
            ]
        )
    return rows


def curves_caption(report: BenchReport) -> str:
    c = report.curves
    parts = []
    if c.get("cost_range"):
        lo, hi = c["cost_range"]
        mixing = (
            f"random mixing AIQ {_f(c['random_mixing_aiq'])}"
            if "random_mixing_aiq" in c
            else "no random mixing (fewer than two agents answered every question)"
        )
        parts.append(f"cost range ${lo:.6f}–${hi:.6f}/question, {mixing}")
    else:
        parts.append("not every call has a dollar cost (give --prices): calls axis only")
    if "two_agent" in c:
        t = c["two_agent"]
        if not t["n"]:
            parts.append(f"no question has both {t['strong']} and {t['weak']} scored: no APGR")
        elif t["strong_accuracy"] == t["weak_accuracy"]:
            parts.append(f"{t['strong']} and {t['weak']} are equally accurate ({_f(t['strong_accuracy'])}): no APGR")
        else:
            parts.append(
                f"strong {t['strong']} {_f(t['strong_accuracy'])}, weak {t['weak']} {_f(t['weak_accuracy'])}; "
                "random routing APGR ≈ 0.5, CPT(50%) ≈ 50%"
            )
    parts.append("curves re-select from each router's own probabilities (as calibrate does), before its guard")
    return "; ".join(parts)


def curves_table(report: BenchReport) -> Table:
    table = Table(title="cost–quality sweep", caption=curves_caption(report))
    for h in _HEADERS:
        table.add_column(h, justify="left" if h == "router" else "right")
    for row in curve_rows(report):
        table.add_row(*row)
    return table


def curves_markdown(report: BenchReport) -> str:
    lines = ["## Cost–quality sweep", "", curves_caption(report), ""]
    lines.append("| " + " | ".join(_HEADERS) + " |")
    lines.append("|" + "|".join("---" for _ in _HEADERS) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in curve_rows(report)]
    lines += [
        "",
        "AIQ: area under the non-decreasing convex hull of accuracy against cost (cheapest to dearest single "
        "agent) or against calls (1 to N), divided by the axis width. APGR / CPT: RouteLLM's, from the "
        "router's probability for the strong agent.",
        "",
    ]
    return "\n".join(lines)


def curve_groups(routers: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Routers whose curves coincide, drawn once under a joint label ("gnn = gnn-top1": the sweep re-selects
    from the same probabilities; "all = random": both are flat), so no line hides under another."""
    groups: dict[str, tuple[list[str], dict[str, Any]]] = {}
    for name, entry in routers.items():
        key = json.dumps([entry.get("calls_curve"), entry.get("cost_curve")], sort_keys=True)
        groups.setdefault(key, ([], entry))[0].append(name)
    return [(" = ".join(names), entry) for names, entry in groups.values()]


def plot_curves(report: BenchReport, out: Path) -> list[Path]:
    """``curves.png`` (accuracy vs cost and vs calls) and, on two-agent logs, ``pgr.png``."""
    c = report.curves
    paths = [out / "curves.png"]
    panels = 2 if c.get("cost_range") else 1
    fig = new_figure((6.5 * panels, 4.8))
    axes = fig.subplots(1, panels, squeeze=False)
    ax_calls = axes[0][panels - 1]
    for name, entry in curve_groups(c["routers"]):
        pts = sorted((p["calls"], p["accuracy"]) for p in entry["calls_curve"])
        ax_calls.plot([x for x, _ in pts], [y for _, y in pts], marker=".", label=name)
        if panels == 2 and "cost_curve" in entry:
            cpts = sorted((p["cost"], p["accuracy"]) for p in entry["cost_curve"])
            axes[0][0].plot([x for x, _ in cpts], [y for _, y in cpts], marker=".", label=name)
    for ax, key in ((axes[0][0], "cost"),) if panels == 2 else ():
        singles = c["singles"]
        ax.scatter([s["cost"] for s in singles], [s["accuracy"] for s in singles], color="black", marker="s")
        for s in singles:
            ax.annotate(s["agent"], (s["cost"], s["accuracy"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        mix = c.get("random_mixing", [])
        ax.plot([p[0] for p in mix], [p[1] for p in mix], "k--", label="random mixing")
        ax.scatter([c["oracle"][key]], [c["oracle"]["accuracy"]], marker="*", s=120, color="gold", label="oracle")
        ax.set_xlabel("cost per question (USD)")
        ax.set_ylabel("accuracy")
        ax.legend(fontsize=7, loc="lower right")
    ax_calls.axhline(report.best_single, linestyle="--", color="grey", label=f"best single {report.best_single:.3f}")
    ax_calls.axhline(report.oracle, linestyle=":", color="black", label=f"oracle {report.oracle:.3f}")
    ax_calls.set_xlabel("agent calls per question")
    ax_calls.set_ylabel("accuracy")
    ax_calls.legend(fontsize=7, loc="lower right")
    fig.suptitle(report.title)
    fig.tight_layout()
    fig.savefig(paths[0], dpi=120)
    t = c.get("two_agent", {})
    if any(r["apgr"] is not None for r in t.get("routers", {}).values()):
        fig = new_figure((6, 4.5))
        ax = fig.subplots()
        for name, r in t["routers"].items():
            if r["apgr"] is None:
                continue
            ax.plot(r["shares"], r["pgr"], marker=".", label=f"{name} (APGR {r['apgr']:.3f})")
        ax.plot([0, 1], [0, 1], "k--", label="random (APGR 0.5)")
        ax.set_xlabel(f"share of questions sent to the strong agent ({t['strong']})")
        ax.set_ylabel("performance gap recovered")
        ax.legend(fontsize=7, loc="lower right")
        ax.set_title(report.title)
        fig.tight_layout()
        paths.append(out / "pgr.png")
        fig.savefig(paths[-1], dpi=120)
    return paths
