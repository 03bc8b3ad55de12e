"""Dozens of candidates, one of them right ~95% of the time: do the learned routers still tie it?

    python benchmarks/many_agents.py                          # 2,000 questions, 40 agents, 5 folds
    python benchmarks/many_agents.py --questions 600 --agents 20 --folds 3 --routers knn,best-single

Why synthetic: the shared logs have at most nine agents, and the failure this guards against (a learned
router landing below always calling the dominant model of a RouterBench-like pool) needs many weak
candidates whose disagreements with the strong one are mostly noise. The log is seeded: agent ``m00`` is
right 95% of the time; every other agent has its own rate (uniform in 0.2–0.85) shifted a little per topic
(8 topics named by words in the question), so there is *some* routing signal, but never enough to beat
``m00``. Each agent answers the gold text when right and one of three wrong texts otherwise, with a cost
per call (``m00`` $0.0003, the others $0.00001–0.0005), so votes and costs replay as in a real log.
Prints the replay benchmark's table (paired Δ to best single) and each learned router's guard verdicts.
"""

from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console

from agentroute.bench.replay import run_replay_benchmark
from agentroute.bench.report import report_table
from agentroute.threads import set_torch_threads
from agentroute.types import AgentRecord, RunRecord

TOPICS = (
    "algebra equation solve",
    "history war king",
    "biology cell protein",
    "code python function",
    "geography river country",
    "physics force energy",
    "law court contract",
    "music song album",
)


def dominant_pool_log(n: int, agents: int, seed: int = 0, strong: float = 0.95) -> list[RunRecord]:
    """``n`` questions, ``agents`` candidates, agent ``m00`` right with probability ``strong``."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.2, 0.85, size=agents)
    base[0] = strong
    bonus = rng.normal(0.0, 0.08, size=(len(TOPICS), agents))
    bonus[:, 0] = 0.0
    price = rng.uniform(1e-5, 5e-4, size=agents)
    price[0] = 3e-4  # the strong agent is not the dearest
    rows = []
    for i in range(n):
        t = i % len(TOPICS)
        words = TOPICS[t].split() + [f"w{rng.integers(200)}" for _ in range(6)]
        rng.shuffle(words)
        gold = f"ans{i}"
        cells = {}
        for j in range(agents):
            right = bool(rng.random() < np.clip(base[j] + bonus[t, j], 0.02, 0.98))
            cells[f"m{j:02d}"] = AgentRecord(
                score=float(right),
                pred=gold if right else f"wrong{rng.integers(3)}",
                cost_usd=float(price[j] * rng.uniform(0.5, 1.5)),
            )
        rows.append(
            RunRecord(
                qid=f"s{i}", dataset=TOPICS[t].split()[0], question=" ".join(words) + "?", gold=[gold], agents=cells
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--questions", type=int, default=2000)
    p.add_argument("--agents", type=int, default=40)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--routers", default="gnn,gnn-top1,knn,mlp,per-task,best-single,oracle")
    args = p.parse_args(argv)
    console = Console(stderr=True)
    set_torch_threads(1)  # these small graphs train fastest on one thread (agentroute.threads)
    report = run_replay_benchmark(
        dominant_pool_log(args.questions, args.agents, args.seed),
        folds=args.folds,
        routers=[r for r in args.routers.split(",") if r],
        progress=lambda m: console.print(m, style="dim", highlight=False),
        title=f"{args.agents} agents, one right ~95%",
    )
    Console(width=140).print(report_table(report))
    for r in report.results:
        if r.guard:
            print(f"{r.router}: {r.guard}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
