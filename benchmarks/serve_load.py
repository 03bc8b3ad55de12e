"""Load on ``agentroute serve``: concurrent ``openai`` clients over loopback, next to the same questions
in-process through ``AgentRoute.ask_many``.

Two pools: the built-in suite's seven tool agents (router knn, fitted on the profiled suite), and three
agents that each sleep 50 ms. The server runs as a subprocess (``agentroute serve --no-access-log``, its
store in memory, every request recorded as in production); the clients are ``AsyncOpenAI`` instances in
this process. Each run is bounded by ``--requests`` and ``--seconds``. Added latency is measured one
request at a time, in alternating blocks so both paths see the same machine load: server p50 (as the
client sees it) minus in-process ``aask`` p50. CPU ms/req is the server process's (or this process's,
in-process) CPU time per request; client CPU is what the ``openai`` clients cost in this process.
Targets: >= 200 requests/s with 64 clients, no errors, <= 5 ms p50 added over in-process ``ask``.

    .venv/bin/python benchmarks/serve_load.py [--clients 64] [--requests 3000] [--seconds 30] [--pools suite,sleep50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import openai
from rich.console import Console
from rich.table import Table

from agentroute import AgentRoute, build_suite, open_store
from agentroute.agents.loading import load_agents
from agentroute.commands import bootstrap_builtin
from agentroute.testing.ports import free_port

SLEEP_POOL = """
import asyncio
from agentroute import agent

def sleeper(name, answer):
    @agent(name=name, description=f"Waits 50 ms, then answers {answer}.", skills=[name])
    async def run(q):
        await asyncio.sleep(0.05)
        return answer
    return run

AGENTS = [sleeper("slow-a", "1"), sleeper("slow-b", "2"), sleeper("slow-c", "3")]
"""


def start_server(agents: str | None, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "agentroute.cli", "serve", "--port", str(port), "--router", "knn", "--no-access-log"]
    if agents:
        cmd += ["--agents", agents]
    env = {k: v for k, v in os.environ.items() if k != "AGENTROUTE_API_KEY"}
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)


def wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit(f"server not ready:\n{log.read_text()}")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process so far (Linux ``/proc`` VmHWM), NaN where unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``), NaN where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(
    base: str, questions: list[str], clients: int, total: int, seconds: float, pid: int
) -> dict[str, float]:
    """``clients`` concurrent clients, each with its own connection, until ``total`` requests or ``seconds``.
    Also measures CPU per request: the server process's and this (client) process's."""
    pool = [
        openai.AsyncOpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=30) for _ in range(clients)
    ]
    latencies: list[float] = []
    errors = 0
    issued = 0
    stop_at = time.perf_counter() + seconds

    async def worker(client: openai.AsyncOpenAI) -> None:
        nonlocal issued, errors
        while issued < total and time.perf_counter() < stop_at:
            q = questions[issued % len(questions)]
            issued += 1
            t = time.perf_counter()
            try:
                r = await client.chat.completions.create(model="agentroute", messages=[{"role": "user", "content": q}])
                if not r.agentroute["called"]:
                    errors += 1
            except Exception:  # noqa: BLE001 - counted, the run goes on
                errors += 1
            latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(worker(c) for c in pool[: min(clients, 8)]))  # warm-up (connections, first fits)
    latencies.clear()
    errors = issued = 0
    stop_at = time.perf_counter() + seconds
    server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in pool))
    wall = time.perf_counter() - start
    server_cpu, client_cpu = cpu_seconds(pid) - server_cpu, time.process_time() - client_cpu
    for c in pool:
        await c.close()
    return summary(latencies, wall, errors, server_cpu, client_cpu)


def summary(
    latencies: list[float], wall: float, errors: int, cpu: float, client_cpu: float = float("nan")
) -> dict[str, float]:
    lat = np.array(latencies) * 1e3
    n = len(latencies)
    return {
        "n": n,
        "rps": n / wall,
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "errors": errors,
        "cpu_ms": cpu / n * 1e3,
        "client_cpu_ms": client_cpu / n * 1e3,
    }


async def ask_many(ar: AgentRoute, questions: list[str], clients: int, total: int) -> dict[str, float]:
    """``AgentRoute.aask_many`` at ``clients`` concurrency: throughput and CPU (no per-question latency)."""
    qs = [questions[i % len(questions)] for i in range(total)]
    await ar.aask_many(qs[:clients], concurrency=clients)  # warm-up
    cpu, start = time.process_time(), time.perf_counter()
    await ar.aask_many(qs, concurrency=clients)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "n": total,
        "rps": total / wall,
        "p50": float("nan"),
        "p95": float("nan"),
        "errors": 0,
        "cpu_ms": cpu / total * 1e3,
        "client_cpu_ms": float("nan"),
    }


async def paired(ar: AgentRoute, base: str, questions: list[str], total: int, pid: int, block: int = 10):
    """One request at a time, alternating blocks of in-process ``aask`` and server requests on the same
    questions, so both see the same load on the machine. Returns (in-process, server) summaries."""
    client = openai.AsyncOpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=30)
    local: list[float] = []
    remote: list[float] = []
    cpu = {"local": 0.0, "server": 0.0, "client": 0.0}
    wall = {"local": 0.0, "server": 0.0}
    qs = [questions[i % len(questions)] for i in range(total)]
    await ar.aask(qs[0])  # warm-up both paths
    await client.chat.completions.create(model="agentroute", messages=[{"role": "user", "content": qs[0]}])
    for start in range(0, total, block):
        chunk = qs[start : start + block]
        t0, c0 = time.perf_counter(), time.process_time()
        for q in chunk:
            t = time.perf_counter()
            await ar.aask(q)
            local.append(time.perf_counter() - t)
        wall["local"] += time.perf_counter() - t0
        cpu["local"] += time.process_time() - c0
        t0, c0, s0 = time.perf_counter(), time.process_time(), cpu_seconds(pid)
        for q in chunk:
            t = time.perf_counter()
            await client.chat.completions.create(model="agentroute", messages=[{"role": "user", "content": q}])
            remote.append(time.perf_counter() - t)
        wall["server"] += time.perf_counter() - t0
        cpu["client"] += time.process_time() - c0
        cpu["server"] += cpu_seconds(pid) - s0
    await client.close()
    return (
        summary(local, wall["local"], 0, cpu["local"]),
        summary(remote, wall["server"], 0, cpu["server"], cpu["client"]),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--requests", type=int, default=3000, help="requests per loaded run (upper bound)")
    p.add_argument("--seconds", type=float, default=30.0, help="time per loaded run (upper bound)")
    p.add_argument("--sequential", type=int, default=200, help="one-at-a-time requests for the added latency")
    p.add_argument("--pools", default="suite,sleep50")
    args = p.parse_args(argv)
    err = Console(stderr=True)
    questions = [q.text for q in build_suite(0).test]
    table = Table(
        "pool",
        "mode",
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "errors",
        "CPU ms/req",
        "client CPU ms/req",
        title=f"agentroute serve under load ({os.cpu_count()} CPUs)",
    )
    added: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for pool_name in [s.strip() for s in args.pools.split(",") if s.strip()]:
            agents_file = None
            store = open_store("memory")
            if pool_name == "sleep50":
                agents_file = str(Path(tmp) / "sleepers.py")
                Path(agents_file).write_text(SLEEP_POOL)
                pool = load_agents(agents_file)
            elif pool_name == "suite":
                pool = bootstrap_builtin(store, 0)
            else:
                raise SystemExit(f"--pools: unknown pool {pool_name!r} (suite, sleep50)")
            ar = AgentRoute(pool, "knn", store=store)
            if store.counts().get("PERFORMED"):
                ar.fit()
            err.print(f"[{pool_name}] in-process ask_many ...", markup=False)
            local = asyncio.run(ask_many(ar, questions, args.clients, min(args.requests, 3000)))
            port = free_port()
            log = Path(tmp) / f"{pool_name}.log"
            proc = start_server(agents_file, port, log)
            try:
                base = f"http://127.0.0.1:{port}"
                err.print(f"[{pool_name}] starting server ...", markup=False)
                wait_ready(proc, base, log)
                err.print(f"[{pool_name}] one at a time, in-process and server alternately ...", markup=False)
                seq_local, seq = asyncio.run(paired(ar, base, questions, args.sequential, proc.pid))
                err.print(f"[{pool_name}] {args.clients} clients ...", markup=False)
                loaded = asyncio.run(drive(base, questions, args.clients, args.requests, args.seconds, proc.pid))
                peak = peak_rss_mb(proc.pid)
            finally:
                ar.close()
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=60)
            for mode, clients, r in [
                ("in-process aask", 1, seq_local),
                ("in-process ask_many", args.clients, local),
                ("server", 1, seq),
                ("server", args.clients, loaded),
            ]:
                client_cpu = "" if np.isnan(r["client_cpu_ms"]) else f"{r['client_cpu_ms']:.2f}"
                p50, p95 = ("–", "–") if np.isnan(r["p50"]) else (f"{r['p50']:.1f}", f"{r['p95']:.1f}")
                table.add_row(
                    pool_name,
                    mode,
                    str(clients),
                    str(r["n"]),
                    f"{r['rps']:.0f}",
                    p50,
                    p95,
                    str(r["errors"]),
                    f"{r['cpu_ms']:.2f}",
                    client_cpu,
                )
            added.append(
                f"{pool_name}: server adds {seq['p50'] - seq_local['p50']:.2f} ms p50 over in-process ask; "
                f"server peak RSS {peak:.0f} MB after {seq['n'] + loaded['n']} requests"
            )
    out = Console(width=140)
    out.print(table)
    for line in added:
        out.print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
