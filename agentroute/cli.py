"""The ``agentroute`` command line: a thin Typer shell over library functions.

Tables and progress go to stderr/stdout for people; ``--json`` prints exactly one JSON object on stdout.
Exit codes: 0 ok, 1 failure, 2 bad input (bad file, bad option, unreachable store).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import typer

from agentroute.printing import add_row, err, error_line, literal, out, progress_printer, say, table
from agentroute.routers.registry import DEFAULT_ROUTERS
from agentroute.secrets import redact
from agentroute.threads import set_torch_threads
from agentroute.validate import (
    OptionError,
    check_checkpoint,
    check_choice,
    check_device,
    check_input_file,
    check_json_object,
    check_keywords,
    check_output_dir,
    check_output_file,
    check_router,
    check_router_options,
    check_routers,
    check_store,
    checkpoint_beside,
    router_for_model,
)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Route questions to the right set of agents with a knowledge graph and a learned router.",
)
agents_app = typer.Typer(no_args_is_help=True, help="Inspect agent pools.")
kg_app = typer.Typer(no_args_is_help=True, help="Inspect and load the knowledge graph store.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmark routers on routing logs.")
app.add_typer(agents_app, name="agents")
app.add_typer(kg_app, name="kg")
app.add_typer(bench_app, name="bench")

F = TypeVar("F", bound=Callable[..., Any])

AGENTS_HELP = "Agent pool: a .py file or module path (default: the built-in suite's tool agents)."
RESUME_HELP = "Continue a killed run: keep the rows already in --out's results.jsonl, do only the rest."
FORCE_HELP = "Start over although --out holds an unfinished run (its files move to --out/unfinished/)."
STORE_HELP = "Graph store: memory, file:PATH, bolt://host:port, neo4j://…, neo4j+s://… (NEO4J_USER/NEO4J_PASSWORD)."


BASE_URL_HELP = (
    "OpenAI-compatible endpoint of LLM parts, e.g. http://127.0.0.1:8000/v1 "
    "(else AGENTROUTE_BASE_URL, OPENAI_BASE_URL)."
)
LLM_MODEL_HELP = "Default model name of LLM agents, routers and the refine aggregator (else AGENTROUTE_LLM_MODEL)."
API_KEY_ENV_HELP = "NAME of the environment variable holding the API key (else AGENTROUTE_LLM_API_KEY, OPENAI_API_KEY)."
PRICES_HELP = 'Prices JSON: {"model or agent": {"input_per_M": USD, "output_per_M": USD}} (else AGENTROUTE_PRICES).'
LLM_TIMEOUT_HELP = "Seconds one LLM request may take (agents, routers and the refine aggregator), before a retry."
LLM_RETRIES_HELP = "Retries of a failed LLM request (timeouts, 429, 5xx), with backoff."


def flag(default: bool, *names: str, help: str = "") -> Any:
    """A boolean option; its help shows no ``<bool>`` placeholder (Typer 0.29 prints one for flags)."""
    return typer.Option(default, *names, help=help, metavar="")


def torch_router_threads(router: str) -> None:
    """A router that runs on torch (declared ``device``) gets one intra-op thread, as in the commands that
    train: fitted on a store's history at start-up, the GNN trained ~10x slower with torch's default on 2
    busy cores, and its small graphs route fastest on one (``threads.py``). Others do not import torch."""
    from agentroute.routers.registry import router_info

    if router_info(router).device:
        set_torch_threads(1)


def llm_settings(
    base_url: str | None,
    llm_model: str | None,
    api_key_env: str | None,
    prices: Path | None,
    timeout: float = 60.0,
    retries: int = 4,
) -> Any:
    """The ``LLMSettings`` of the ``--base-url`` / ``--llm-model`` / ``--api-key-env`` / ``--prices`` /
    ``--llm-timeout`` / ``--llm-retries`` options."""
    from agentroute.llm import LLMSettings

    return LLMSettings(
        base_url=base_url,
        model=llm_model,
        api_key_env=api_key_env,
        prices=prices,
        timeout_s=timeout,
        max_retries=retries,
    )


def llm_totals(answer: Any) -> dict[str, Any] | None:
    """What LLM calls spent on an answer (agents, router, aggregator): calls, tokens and USD, or None when
    nothing called an LLM."""
    from agentroute.types import TokenUsage

    parts = [*answer.results, answer.decision, answer]
    usages = [p.usage for p in parts if p.usage is not None]
    if not usages:
        return None
    total = sum(usages, TokenUsage())
    cost = sum(p.cost for p in parts if p.usage is not None)
    return {
        "calls": total.calls,
        "prompt_tokens": total.prompt_tokens,
        "completion_tokens": total.completion_tokens,
        "cost_usd": cost,
    }


def llm_spend(answer: Any) -> str:
    """One line of what LLM calls cost for an answer, or "" when none did."""
    spent = llm_totals(answer)
    if spent is None:
        return ""
    return (
        f"LLM: {spent['calls']} calls, {spent['prompt_tokens']} prompt + {spent['completion_tokens']} completion "
        f"tokens, ${spent['cost_usd']:.6f}"
    )


class BadInput(Exception):
    """Raised for user errors that should exit with code 2."""


def _bad_input_types() -> tuple[type[BaseException], ...]:
    from agentroute.agents.base import AgentDefinitionError
    from agentroute.agents.loading import AgentLoadError
    from agentroute.bench.datasets import DatasetFormatError
    from agentroute.bench.logs import LogFormatError

    types: list[type[BaseException]] = [BadInput, OptionError, AgentDefinitionError, AgentLoadError, LogFormatError]
    types.append(DatasetFormatError)
    types += [FileNotFoundError, IsADirectoryError, PermissionError, ValueError]
    try:
        from agentroute.kg.stores.neo4j_store import StoreConnectionError

        types.append(StoreConnectionError)
    except ImportError:  # pragma: no cover - neo4j driver missing
        pass
    return tuple(types)


def handle_errors(fn: F) -> F:
    """One clear line instead of a traceback wall; exit 2 for bad input, 1 for anything else."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            error_line("error", "interrupted")
            raise typer.Exit(130) from None
        except Exception as e:  # noqa: BLE001
            if os.environ.get("AGENTROUTE_DEBUG"):
                raise
            code = 2 if isinstance(e, _bad_input_types()) else 1
            kind = "error" if code == 2 else f"failed ({type(e).__name__})"
            error_line(kind, e)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


def parse_aggregator_options(name: str, text: str) -> dict[str, Any]:
    """``--aggregator`` checked against the registered names and ``--aggregator-options`` as a JSON object."""
    from agentroute.aggregate import aggregator_factory, aggregator_names

    check_choice("--aggregator", name, aggregator_names())
    if getattr(aggregator_factory(name), "needs_llm", False) is True:
        raise BadInput(
            f"--aggregator {name}: needs an LLM on every question, and a replay of recorded answers calls none "
            f"(try it with `agentroute ask --aggregate {name}`)"
        )
    try:
        options = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"--aggregator-options is not valid JSON: {e}") from None
    if not isinstance(options, dict):
        raise BadInput("--aggregator-options must be a JSON object")
    check_keywords("--aggregator-options", name, aggregator_factory(name), options)
    return options


def parse_router_options(text: str, routers: list[str], seed: int) -> dict[str, dict[str, Any]]:
    """``--options`` JSON -> {router: {option: value}}, checked by building each router (no training)."""
    parsed = check_json_object(text, "--options")
    if not all(isinstance(v, dict) for v in parsed.values()):
        raise OptionError('--options must be a JSON object of router -> object, e.g. {"gnn": {"mass": 0.7}}')
    unknown = [name for name in parsed if name not in routers]
    if unknown:
        raise OptionError(f"--options names router(s) {', '.join(unknown)} not in --routers ({', '.join(routers)})")
    for name, opts in parsed.items():
        check_router_options(name, opts, "--options", seed)
    return {name: dict(opts) for name, opts in parsed.items()}


EMBEDDER_HELP = (
    "hashing (default, no files), minilm-static or minilm (offline, the `embeddings` extra), or sentence-transformers"
    " (the same model through torch and sentence-transformers)."
)


def check_embedder(name: str) -> str:
    from agentroute.kg.embed import embedder_names

    return check_choice("--embedder", name, embedder_names())


def print_json(obj: Any, stream: Any = None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(obj, ensure_ascii=False) + "\n")
    stream.flush()


@contextlib.contextmanager
def agents_print_to_stderr(as_json: bool) -> Iterator[Any]:
    """With ``--json``, stdout carries only our JSON: what agents print while they run goes to stderr.
    Yields the stream our JSON goes to."""
    stdout = sys.stdout
    if not as_json:
        yield stdout
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield stdout


def print_counts(counts: dict[str, Any], title: str, as_json: bool, header: str = "count") -> None:
    """A name -> value mapping as JSON or as a two-column table."""
    if as_json:
        print_json(counts)
        return
    out.print(table("", header, title=redact(title), rows=((key, value) for key, value in counts.items())))


def cold_start_notice(agents: list[str], store: str) -> str:
    """One stderr line saying which agents were routed by description for lack of history."""
    return (
        f"cold start: no history in store {redact(store)} for {', '.join(agents)}; routing by description and skills "
        "(`agentroute profile --store ...` records history to learn from)"
    )


# --------------------------------------------------------------------------------------------------- agents


@agents_app.command("list")
@handle_errors
def agents_list(
    agents: str = typer.Option(None, "--agents", "-a", help=AGENTS_HELP),
    as_json: bool = flag(False, "--json", help="Print JSON."),
) -> None:
    """List the agents of a pool with their descriptions and skills."""
    from agentroute.commands import load_pool

    pool = load_pool(agents)
    rows = [{"name": s.name, "description": s.description, "skills": list(s.skills)} for s in pool.specs]
    if as_json:
        print_json(rows)
        return
    rows_shown = ((r["name"], r["description"], ", ".join(r["skills"])) for r in rows)
    out.print(table("name", "description", "skills", title=f"{len(rows)} agents", rows=rows_shown))


@agents_app.command("describe")
@handle_errors
def agents_describe(
    samples: Path = typer.Option(..., "--samples", help="Routing log: the questions each agent answered, scored."),
    agents: str = typer.Option(None, "--agents", "-a", help="Agent pool to describe (default: the log's agents)."),
    output: Path = typer.Option(None, "--out", "-o", help="Write the descriptions here (JSON, for --agent-info)."),
    per_agent: int = typer.Option(8, "--per-agent", min=1, help="Sample questions shown to the model per agent."),
    base_url: str = typer.Option(None, "--base-url", help=BASE_URL_HELP),
    llm_model: str = typer.Option(None, "--llm-model", help=LLM_MODEL_HELP),
    api_key_env: str = typer.Option(None, "--api-key-env", help=API_KEY_ENV_HELP),
    llm_timeout: float = typer.Option(60.0, "--llm-timeout", min=0.001, help=LLM_TIMEOUT_HELP),
    llm_retries: int = typer.Option(4, "--llm-retries", min=0, help=LLM_RETRIES_HELP),
    as_json: bool = flag(False, "--json", help="Print the descriptions as one JSON object."),
) -> None:
    """Write a description for each agent from sample questions it answered well (for LLM routers)."""
    from agentroute.commands import describe_pool

    check_input_file(samples, "--samples")
    info, kept = describe_pool(
        samples,
        agents=agents,
        output=output,
        per_agent=per_agent,
        llm=llm_settings(base_url, llm_model, api_key_env, None, llm_timeout, llm_retries),
        progress=progress_printer(not as_json),
    )
    for name, why in kept.items():
        err.print(literal(f"{name}: description kept as it was ({why})", one_line=True))
    if output is not None:
        err.print(literal(f"wrote {output}", one_line=True))
    if as_json:
        print_json(info)
        return
    rows = ((name, entry["description"]) for name, entry in info.items())
    out.print(table("name", "description", title=f"{len(info)} agents", rows=rows))


# ---------------------------------------------------------------------------------------------------- ask


@app.command()
@handle_errors
def ask(
    question: str = typer.Argument(..., help="The question to answer."),
    agents: str = typer.Option(None, "--agents", "-a", help=AGENTS_HELP),
    router: str = typer.Option(
        None, "--router", "-r", help="Router name (see `agentroute routers`; default knn, or with --model gnn)."
    ),
    model: Path = typer.Option(None, "--model", "-m", help="A trained GNN checkpoint (from `agentroute train`)."),
    store: str = typer.Option("memory", "--store", help=STORE_HELP),
    k: int = typer.Option(None, "--k", min=1, help="Number of agents to call (default: the router's own rule)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the built-in suite and the router."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.001, help="Per-agent timeout in seconds."),
    device: str = typer.Option("auto", "--device", help="Device of a router that takes one: auto, cpu or cuda."),
    stream: bool = flag(
        False, "--stream", help="Print the decision and each agent's start/finish as they happen (--json: JSON lines)."
    ),
    aggregate: str = typer.Option(
        "weighted-vote",
        "--aggregate",
        "--aggregator",
        help="weighted-vote, answer-aware (reads the answers where that beat the vote on held-out questions), "
        "majority, top-one or refine (an LLM merges the answers).",
    ),
    base_url: str = typer.Option(None, "--base-url", help=BASE_URL_HELP),
    llm_model: str = typer.Option(None, "--llm-model", help=LLM_MODEL_HELP),
    api_key_env: str = typer.Option(None, "--api-key-env", help=API_KEY_ENV_HELP),
    llm_timeout: float = typer.Option(60.0, "--llm-timeout", min=0.001, help=LLM_TIMEOUT_HELP),
    llm_retries: int = typer.Option(4, "--llm-retries", min=0, help=LLM_RETRIES_HELP),
    prices: Path = typer.Option(None, "--prices", help=PRICES_HELP),
    as_json: bool = flag(False, "--json", help="Print one JSON object."),
) -> None:
    """Answer one question: route it, run the chosen agents in parallel, aggregate (exit status 1 when no
    agent answered)."""
    from agentroute.events import format_event

    json_out = sys.stdout

    def show_event(event: dict[str, Any]) -> None:
        if as_json:
            print_json(event, json_out)
        else:
            say(format_event(event))

    from agentroute.agents.loading import load_agents

    # the agent file first: it may register the router, store or aggregator the options name
    pool = load_agents(agents) if agents is not None else None
    router = router_for_model(router, model)
    check_device(device)
    if model is not None:
        check_checkpoint(model)
    check_store(store)
    torch_router_threads(router)
    from agentroute.commands import ask_one  # after the checks: importing the pipeline takes a second

    with agents_print_to_stderr(as_json):
        answer = ask_one(
            question,
            agents=pool,
            router=router,
            model=model,
            store=store,
            k=k,
            seed=seed,
            timeout_s=timeout,
            aggregate=aggregate,
            llm=llm_settings(base_url, llm_model, api_key_env, prices, llm_timeout, llm_retries),
            device=device,
            progress=progress_printer(not as_json),
            on_event=show_event if stream else None,
            notice=progress_printer(True),
        )
    d = answer.decision
    if d.cold_start:
        err.print(literal(cold_start_notice(d.cold_start, store), one_line=True))
    if as_json:
        print_json(
            {
                "answer": answer.text,
                "router": d.router,
                "selected": d.selected,
                "called": [r.agent for r in answer.results],
                "probs": d.probs,
                "rationale": redact(d.rationale) if d.rationale else None,
                "cold_start": d.cold_start,
                "results": [{"agent": r.agent, "answer": r.answer, "error": r.error} for r in answer.results],
                "error": answer.error,
                "llm": llm_totals(answer),
            }
        )
    else:
        show_answer(answer)
    if answer.error:
        raise typer.Exit(1)  # scripts can tell "no agent answered" (maybe politely declined) from an answer


def show_answer(answer: Any) -> None:
    """The answer, each agent's probability, choice and reply, the rationale and the LLM spend."""
    d = answer.decision
    say(answer.text or (f"(no answer: {answer.error})" if answer.error else "(no answer)"), "bold")
    shown_table = table("agent", "prob", "chosen", "answer", title=f"router: {d.router}")
    by_agent = {r.agent: r for r in answer.results}
    for name, p in sorted(d.probs.items(), key=lambda kv: -kv[1]):
        r = by_agent.get(name)
        shown = "" if r is None else (r.answer if r.error is None else f"error: {r.error}")
        chosen = "" if name not in d.selected else ("yes" if r is not None else "skipped (settled)")
        add_row(shown_table, name, f"{p:.3f}", chosen, shown or "")
    out.print(shown_table)
    if d.rationale:
        say(f"rationale: {redact(d.rationale)}")
    spent = llm_spend(answer)
    if spent:
        say(spent)


# -------------------------------------------------------------------------------------- quickstart / bench


@app.command()
@handle_errors
def quickstart(
    out_dir: Path = typer.Option(
        Path("agentroute-quickstart"),
        "--out",
        "-o",
        help="Report folder (results.jsonl grows as it goes; a previous run moves to --out/previous/).",
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the generated world, questions and routers."),
    n_train: int = typer.Option(600, "--train", min=20, help="Generated training questions."),
    n_test: int = typer.Option(300, "--test", min=10, help="Generated test questions."),
    store: str = typer.Option("memory", "--store", help=STORE_HELP),
    resume: bool = flag(False, "--resume", help=RESUME_HELP),
    force: bool = flag(False, "--force", help=FORCE_HELP),
    as_json: bool = flag(False, "--json", help="Print one JSON object."),
) -> None:
    """Offline demo: train every router on a built-in suite of tool agents and compare them.

    It builds the suite's knowledge graph, profiles its agents, trains every router and tests each through LangGraph.
    """
    from agentroute.bench.quickstart import quickstart_summary, run_quickstart
    from agentroute.bench.report import report_table
    from agentroute.bench.resultlog import ResultsLog
    from agentroute.bench.write import write_report
    from agentroute.kg.store import open_store

    check_store(store)
    check_output_dir(out_dir, "--out")
    set_torch_threads(1)
    config = {"command": "quickstart", "seed": seed, "train": n_train, "test": n_test, "routers": DEFAULT_ROUTERS}
    results_log = ResultsLog(out_dir, lambda r: (r["router"], r["qid"]), config, resume, force)
    graph_store = open_store(store)
    try:
        if (moved := results_log.start()) is not None:  # after the store opened: a refused run moves nothing
            err.print(literal(f"moved the previous run to {moved}", one_line=True))
        report = run_quickstart(
            seed=seed,
            n_train=n_train,
            n_test=n_test,
            progress=progress_printer(True),
            store=graph_store,
            results_log=results_log,
        )
    finally:
        graph_store.close()
    paths = write_report(report, out_dir)
    if as_json:
        print_json(quickstart_summary(report))
        return
    out.print(report_table(report))
    say(f"report: {', '.join(str(p) for p in paths)}")


@bench_app.command("run")
@handle_errors
def bench_run(
    logs: Path = typer.Option(..., "--logs", help="Routing log (unified JSONL) to train/evaluate on."),
    test_logs: Path = typer.Option(None, "--test-logs", help="Separate test log (else k-fold CV on --logs)."),
    folds: int = typer.Option(None, "--folds", "-k", min=2, help="Cross-validation folds (5; not with --test-logs)."),
    jobs: int = typer.Option(
        1,
        "--jobs",
        "-j",
        min=0,
        help="Run the folds in N worker processes (one torch thread each; same figures); 0: one per CPU core.",
    ),
    routers_opt: str = typer.Option(",".join(DEFAULT_ROUTERS), "--routers", help="Comma-separated routers."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the folds and of every router."),
    embedder: str = typer.Option("hashing", "--embedder", help=EMBEDDER_HELP),
    device: str = typer.Option("auto", "--device", help="Device of routers that take one: auto, cpu or cuda."),
    options: str = typer.Option(
        "{}", "--options", help='Router options as JSON, e.g. \'{"gnn": {"mass": 0.7, "ensemble": 5}}\'.'
    ),
    out_dir: Path = typer.Option(
        None, "--out", "-o", help="Write results.jsonl (as it goes), report.json, report.md and plots here."
    ),
    resume: bool = flag(False, "--resume", help=RESUME_HELP),
    force: bool = flag(False, "--force", help=FORCE_HELP),
    sweep: bool = flag(
        False, "--sweep", help="Sweep cost weight and confidence threshold: curves, AIQ, APGR/CPT (2 agents)."
    ),
    prices: Path = typer.Option(
        None, "--prices", help='Prices JSON: {"agent or model": {"per_call": USD} or {"input_per_M", "output_per_M"}}.'
    ),
    aggregator: str = typer.Option(
        "answer-aware",
        "--aggregator",
        "--aggregate",
        help="answer-aware (default: reads the answers where that beat the vote on held-out questions), "
        "weighted-vote, majority or top-one.",
    ),
    aggregator_options: str = typer.Option(
        "{}", "--aggregator-options", help="Aggregator options as JSON, e.g. '{\"force\": true}' (answer-aware)."
    ),
    agent_info: Path = typer.Option(
        None, "--agent-info", help="Agent descriptions and prices for LLM routers (JSON, see `agents describe`)."
    ),
    base_url: str = typer.Option(None, "--base-url", help=BASE_URL_HELP),
    llm_model: str = typer.Option(None, "--llm-model", help=LLM_MODEL_HELP),
    api_key_env: str = typer.Option(None, "--api-key-env", help=API_KEY_ENV_HELP),
    llm_timeout: float = typer.Option(60.0, "--llm-timeout", min=0.001, help=LLM_TIMEOUT_HELP),
    llm_retries: int = typer.Option(4, "--llm-retries", min=0, help=LLM_RETRIES_HELP),
    as_json: bool = flag(False, "--json", help="Print one JSON object."),
) -> None:
    """Replay a routing log: train and evaluate every router on the same folds, print one table."""
    from agentroute.agents.descriptions import read_agent_info
    from agentroute.bench.costs import read_prices
    from agentroute.bench.logs import read_routing_log
    from agentroute.bench.replay import run_replay_benchmark
    from agentroute.bench.report import report_table
    from agentroute.bench.resultlog import ResultsLog, fingerprint
    from agentroute.bench.write import write_report
    from agentroute.routers.registry import router_info

    names = check_routers(routers_opt)
    check_device(device)
    check_embedder(embedder)
    check_input_file(logs, "--logs")
    if test_logs is not None:
        check_input_file(test_logs, "--test-logs")
        if folds is not None:
            raise BadInput(
                "--folds: no folds with --test-logs (it trains on --logs, tests on --test-logs): drop --folds"
            )
    folds = 5 if folds is None else folds
    if prices is not None:
        check_input_file(prices, "--prices")
    if agent_info is not None:
        check_input_file(agent_info, "--agent-info")
    if out_dir is not None:
        check_output_dir(out_dir, "--out")
    if resume and out_dir is None:
        raise BadInput("--resume needs --out DIR (the folder whose results.jsonl to continue)")
    price_table = read_prices(prices) if prices is not None else None
    specs = read_agent_info(agent_info) if agent_info is not None else None
    router_options = parse_router_options(options, names, seed)
    agg_options = parse_aggregator_options(aggregator, aggregator_options)
    set_torch_threads(1)
    for name in names:
        if router_info(name).device:
            router_options.setdefault(name, {}).setdefault("device", device)
    records = read_routing_log(logs)
    test_records = read_routing_log(test_logs) if test_logs else None
    cores = os.cpu_count() or 1
    if jobs == 1 and test_logs is None and cores > 1 and len(records) >= 2000:
        tip = f"tip: --jobs 0 runs the {folds} folds side by side on this machine's {cores} cores"
        err.print(literal(tip, one_line=True))
    results_log = None
    if out_dir is not None:
        config = {
            "command": "bench run",
            "logs": str(logs),
            "logs_sha256": fingerprint(logs),
            "test_logs": str(test_logs) if test_logs else None,
            "test_logs_sha256": fingerprint(test_logs),
            "agent_info_sha256": fingerprint(agent_info),
            "prices_sha256": fingerprint(prices),
            "folds": folds,
            "routers": names,
            "seed": seed,
            "embedder": embedder,
            "options": json.loads(options),
            "prices": str(prices) if prices else None,
            "aggregator": aggregator,
            "aggregator_options": agg_options,
        }
        results_log = ResultsLog(out_dir, lambda r: (r["router"], r["row"]), config, resume, force)
    report = run_replay_benchmark(
        records,
        test_records=test_records,
        folds=folds,
        routers=names,
        seed=seed,
        embedder=embedder,
        router_options=router_options,
        progress=progress_printer(True),
        title=f"agentroute bench: {logs.name}",
        sweep=sweep,
        prices=price_table,
        llm=llm_settings(base_url, llm_model, api_key_env, prices, llm_timeout, llm_retries),
        agent_specs=specs,
        results_log=results_log,
        aggregator=aggregator,
        aggregator_options=agg_options,
        jobs=jobs or cores,
        log_names=[str(logs), *([str(test_logs)] if test_logs else [])],
    )
    if out_dir is not None:
        paths = write_report(report, out_dir)
        err.print(literal(f"report: {', '.join(str(p) for p in paths)}", one_line=True))
    if as_json:
        print_json(report.to_json_summary())
        return
    out.print(report_table(report))
    if report.curves:
        from agentroute.bench.curve_report import curves_table

        out.print(curves_table(report))


@app.command()
@handle_errors
def train(
    output: Path = typer.Option(
        None, "--out", "-o", help="Checkpoint to write (default for a file:X.json store: X.model.pt beside it)."
    ),
    logs: Path = typer.Option(None, "--logs", help="Routing log to train on (else: the store's history)."),
    store: str = typer.Option(None, "--store", help=STORE_HELP + " Train on its history (instead of --logs)."),
    router: str = typer.Option("gnn", "--router", help="A router that saves checkpoints (gnn, gnn-top1)."),
    embedder: str = typer.Option("hashing", "--embedder", help=EMBEDDER_HELP),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    epochs: int = typer.Option(40, "--epochs", min=1, help="Training passes over the examples (per ensemble member)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the training (the same seed: the same checkpoint)."),
    as_json: bool = flag(False, "--json", help="Print one JSON object."),
) -> None:
    """Train the GNN router on a routing log or on a store's history and save a checkpoint."""
    if (logs is None) == (store is None):
        raise BadInput("give exactly one of --logs FILE or --store URL")
    if check_router(router).checkpoint is None:
        raise OptionError(f"--router {router}: does not save checkpoints (train one of the gnn routers)")
    check_device(device)
    check_embedder(embedder)
    if logs is not None:
        check_input_file(logs, "--logs")
    if store is not None:
        check_store(store)
    out = output or checkpoint_beside(store)
    if out is None:
        raise OptionError("--out: name the checkpoint to write (only a file: store has a default beside it)")
    check_output_file(out, "--out")
    set_torch_threads(1)
    from agentroute.commands import train_gnn

    summary = train_gnn(
        out,
        logs=logs,
        store=store,
        router=router,
        embedder=embedder,
        device=device,
        epochs=epochs,
        seed=seed,
        progress=progress_printer(not as_json),
    )
    print_counts(summary, "summary", as_json, header="value")


@app.command()
@handle_errors
def calibrate(
    logs: Path = typer.Option(..., "--logs", help="Routing log to train and calibrate on."),
    output: Path = typer.Option(..., "--out", "-o", help="Checkpoint file to write (model.pt)."),
    target_cost: float = typer.Option(None, "--target-cost", help="Budget in USD per question."),
    target_calls: float = typer.Option(None, "--target-calls", help="Budget in agent calls per question (gnn)."),
    router: str = typer.Option("gnn", "--router", help="gnn or gnn-top1."),
    prices: Path = typer.Option(None, "--prices", help="Agent prices JSON (when the log has no cost_usd)."),
    embedder: str = typer.Option("hashing", "--embedder", help=EMBEDDER_HELP),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    epochs: int = typer.Option(40, "--epochs", min=1, help="Training passes over the examples (per ensemble member)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the training (the same seed: the same checkpoint)."),
    folds: int = typer.Option(
        1, "--folds", min=1, help="Held-out predictions: 1 = one 20% slice; N = cross-fitted (N extra trainings)."
    ),
    as_json: bool = flag(False, "--json", help="Print one JSON object."),
) -> None:
    """Train the GNN router and pick the cost weight that meets a budget on held-out questions.

    The weight (the mass threshold for --target-calls) is written into the checkpoint, which routes with it.
    """
    from agentroute.bench.costs import read_prices
    from agentroute.routers.calibration import check_budget

    try:
        check_budget(target_cost, target_calls)  # before the other checks and any training
    except ValueError as e:
        raise BadInput(str(e)) from None
    if check_router(router).checkpoint is None:
        raise OptionError(f"--router {router}: does not save checkpoints (calibrate one of the gnn routers)")
    check_device(device)
    check_embedder(embedder)
    check_input_file(logs, "--logs")
    if prices is not None:
        check_input_file(prices, "--prices")
    check_output_file(output, "--out")
    from agentroute.commands import calibrate_budget

    set_torch_threads(1)
    summary = calibrate_budget(
        logs,
        output,
        target_cost=target_cost,
        target_calls=target_calls,
        router=router,
        embedder=embedder,
        device=device,
        epochs=epochs,
        seed=seed,
        prices=read_prices(prices) if prices is not None else None,
        progress=progress_printer(not as_json),
        folds=folds,
    )
    print_counts(summary, "calibration", as_json, header="value")


@app.command()
@handle_errors
def profile(
    data: Path = typer.Option(..., "--data", "-d", help="QA file (.jsonl, .json, .csv) with questions and gold."),
    out: str = typer.Option(
        ...,
        "--out",
        "-o",
        help="Routing log to write (one JSON line per question), or a folder (DIR/) for results.jsonl.",
    ),
    agents: str = typer.Option(None, "--agents", "-a", help=AGENTS_HELP),
    store: str = typer.Option(None, "--store", help=STORE_HELP + " Also record the runs there."),
    resume: bool = flag(False, "--resume", help="Continue an interrupted run, skipping finished questions."),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N questions."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.001, help="Per-agent timeout in seconds."),
    concurrency: int = typer.Option(8, "--concurrency", "-c", min=1, help="Questions run at the same time."),
    metric: str = typer.Option("em", "--metric", help="Score: em, f1, numeric, choice or auto (by the gold's form)."),
    base_url: str = typer.Option(None, "--base-url", help=BASE_URL_HELP),
    llm_model: str = typer.Option(None, "--llm-model", help=LLM_MODEL_HELP),
    api_key_env: str = typer.Option(None, "--api-key-env", help=API_KEY_ENV_HELP),
    llm_timeout: float = typer.Option(60.0, "--llm-timeout", min=0.001, help=LLM_TIMEOUT_HELP),
    llm_retries: int = typer.Option(4, "--llm-retries", min=0, help=LLM_RETRIES_HELP),
    prices: Path = typer.Option(None, "--prices", help=PRICES_HELP),
    as_json: bool = flag(False, "--json", help="Print one JSON object."),
) -> None:
    """Run every agent on a QA benchmark and write a routing log you can `train` and `bench run` on."""
    check_input_file(data, "--data")
    output = Path(out) / "results.jsonl" if out.endswith(("/", os.sep)) else Path(out)  # DIR/: typed a folder
    check_output_file(output / "results.jsonl" if output.is_dir() else output, "--out")  # --out DIR: inside it
    if store is not None:
        check_store(store)
    from agentroute.commands import profile_agents

    with agents_print_to_stderr(as_json):
        summary = profile_agents(
            data,
            output,
            agents=agents,
            store=store,
            resume=resume,
            limit=limit,
            timeout_s=timeout,
            concurrency=concurrency,
            metric=metric,
            llm=llm_settings(base_url, llm_model, api_key_env, prices, llm_timeout, llm_retries),
            progress=progress_printer(not as_json),
        )
    print_counts(summary, "summary", as_json, header="value")


@app.command()
@handle_errors
def serve(
    agents: str = typer.Option(None, "--agents", "-a", help=AGENTS_HELP),
    router: str = typer.Option(
        None, "--router", "-r", help="Default router (model 'agentroute'; knn, or with --model gnn)."
    ),
    model: Path = typer.Option(None, "--model", "-m", help="A trained GNN checkpoint as the default router."),
    store: str = typer.Option("memory", "--store", help=STORE_HELP + " Every served run is recorded there."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (loopback unless told otherwise)."),
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="Port to listen on."),
    k: int = typer.Option(None, "--k", min=1, help="Number of agents to call (default: the router's own rule)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the built-in suite and the routers."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.001, help="Per-agent timeout in seconds."),
    request_timeout: float = typer.Option(
        120.0, "--request-timeout", min=0.001, help="Per-request timeout in seconds."
    ),
    max_body: int = typer.Option(1_000_000, "--max-body", min=1, help="Largest request body in bytes (else 413)."),
    max_messages: int = typer.Option(256, "--max-messages", min=1, help="Most messages in one request (else 400)."),
    refit_every: int = typer.Option(0, "--refit-every", min=0, help="Refit routers every N feedbacks (0: never)."),
    access_log: bool = flag(True, "--access-log/--no-access-log", help="Log one line per request."),
    allowed_hosts: str = typer.Option(
        None,
        "--allowed-hosts",
        help="More Host names to answer on loopback, comma-separated (a reverse proxy's; '*': any).",
    ),
    base_url: str = typer.Option(None, "--base-url", help=BASE_URL_HELP),
    llm_model: str = typer.Option(None, "--llm-model", help=LLM_MODEL_HELP),
    api_key_env: str = typer.Option(None, "--api-key-env", help=API_KEY_ENV_HELP),
    llm_timeout: float = typer.Option(60.0, "--llm-timeout", min=0.001, help=LLM_TIMEOUT_HELP),
    llm_retries: int = typer.Option(4, "--llm-retries", min=0, help=LLM_RETRIES_HELP),
    prices: Path = typer.Option(None, "--prices", help=PRICES_HELP),
) -> None:
    """Serve an OpenAI-compatible endpoint that routes every request; the inspector is at /.

    /v1/chat/completions routes each request and records it in the store; /v1/feedback teaches the router.

    Set AGENTROUTE_API_KEY to require 'Authorization: Bearer <key>'.
    """
    import importlib.util

    from agentroute.agents.loading import load_agents

    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise OptionError(f"serve needs {' and '.join(missing)}: pip install 'agentroute[serve]'")

    pool = load_agents(agents) if agents is not None else None  # first: it may register the router or store
    router = router_for_model(router, model)
    if model is not None:
        check_checkpoint(model)
    check_store(store)
    torch_router_threads(router)
    from agentroute.serve.server import config_from_env
    from agentroute.serve.server import serve as run_server

    config = config_from_env(max_body_bytes=max_body, max_messages=max_messages, request_timeout_s=request_timeout)
    if allowed_hosts:
        from dataclasses import replace

        config = replace(config, allowed_hosts=tuple(h.strip() for h in allowed_hosts.split(",") if h.strip()))
    run_server(
        agents=pool,
        router=router,
        model=model,
        store=store,
        host=host,
        port=port,
        seed=seed,
        k=k,
        timeout_s=timeout,
        config=config,
        refit_every=refit_every,
        access_log=access_log,
        progress=progress_printer(True),
        llm=llm_settings(base_url, llm_model, api_key_env, prices, llm_timeout, llm_retries),
    )


# ------------------------------------------------------------------------------------------------------ kg


@kg_app.command("stats")
@handle_errors
def kg_stats(
    store: str = typer.Option("memory", "--store", help=STORE_HELP),
    as_json: bool = flag(False, "--json", help="Print JSON."),
) -> None:
    """Count nodes per label and relationships per type."""
    from agentroute.kg.store import open_store

    graph_store = open_store(check_store(store))
    try:
        counts = graph_store.counts()
    finally:
        graph_store.close()
    print_counts(counts, f"store: {store}", as_json)


@kg_app.command("bootstrap")
@handle_errors
def kg_bootstrap(
    store: str = typer.Option(..., "--store", help=STORE_HELP),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the built-in suite."),
    as_json: bool = flag(False, "--json", help="Print the counts written as JSON."),
) -> None:
    """Load the built-in suite into a store: its world and its agents' scores on the training questions."""
    from agentroute.commands import bootstrap_suite, has_history
    from agentroute.kg.store import open_store

    graph_store = open_store(store)
    try:
        if has_history(graph_store):
            raise BadInput(f"store {store} already has history: bootstrap an empty store")
        counts = bootstrap_suite(graph_store, seed, progress=progress_printer(not as_json))
    finally:
        graph_store.close()
    print_counts(counts, f"built-in suite -> {store}", as_json, header="written")


@kg_app.command("show")
@handle_errors
def kg_show(
    question: str = typer.Argument(..., help="Show the query graph this question would get."),
    agents: str = typer.Option(None, "--agents", "-a", help=AGENTS_HELP),
    store: str = typer.Option("memory", "--store", help=STORE_HELP),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the built-in suite."),
    as_json: bool = flag(False, "--json", help="Print JSON."),
) -> None:
    """Show a question's knowledge graph: entities, neighbours, agents, similar past questions."""
    check_store(store)
    from agentroute.commands import show_query_graph

    graph = show_query_graph(question, agents=agents, store=store, seed=seed, notice=progress_printer(True))
    if as_json:
        print_json(graph)
        return
    out.print(literal("Query ", "bold") + literal(graph["query"]))
    entities = ((e["id"], e["kind"], "yes" if e["mentioned"] else "neighbour") for e in graph["entities"])
    out.print(table("entity", "kind", "mentioned", title="entities", rows=entities))
    if graph["related"]:
        out.print(literal("related: " + "; ".join(f"{s} -[{k}]-> {d}" for s, d, k in graph["related"])))
    if graph["covers"]:
        out.print(literal("covers: " + "; ".join(f"{a} -> {e}" for a, e in graph["covers"])))
    sim = table("past question", "similarity", "agents that scored", title="similar past questions")
    for p in graph["similar"]:
        scores = ", ".join(f"{a}={v:g}" for a, v in p["scores"].items() if v) or "every agent 0"
        add_row(sim, p["text"], f"{p['similarity']:.3f}", scores)
    out.print(sim)


@kg_app.command("ingest")
@handle_errors
def kg_ingest(
    logs: Path = typer.Option(..., "--logs", help="A routing log (unified JSONL, optionally .gz)."),
    store: str = typer.Option("memory", "--store", help=STORE_HELP),
    as_json: bool = flag(False, "--json", help="Print the counts written as JSON."),
) -> None:
    """Load a routing log into the store: questions, entities, agents, PERFORMED scores and costs."""
    check_input_file(logs, "--logs")
    check_store(store)
    from agentroute.commands import ingest_log

    counts = ingest_log(logs, store, progress=progress_printer(not as_json))
    print_counts(counts, f"{logs} -> {store}", as_json, header="written")


@kg_app.command("export")
@handle_errors
def kg_export(
    fmt: str = typer.Option("json", "--format", "-f", help="graphml, json or cypher."),
    store: str = typer.Option("memory", "--store", help=STORE_HELP),
    output: Path = typer.Option(None, "--out", "-o", help="Output file (default: stdout)."),
) -> None:
    """Export the whole store as GraphML, JSON or a Cypher script."""
    from agentroute.kg.export import EXPORTERS

    check_choice("--format", fmt, list(EXPORTERS))
    check_store(store)
    if output is not None:
        check_output_file(output, "--out")
    from agentroute.commands import export_store

    text = export_store(store, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        from agentroute.atomic import atomic_write_text

        atomic_write_text(output, text)
        err.print(literal(f"wrote {output}", one_line=True))


@app.command()
@handle_errors
def routers() -> None:
    """List the registered routers (builds none of them)."""
    from agentroute.routers.registry import router_info, router_names

    for name in router_names():
        say(f"{name:<12} {router_info(name).summary}")


def main() -> None:
    """The console script: Typer's own usage errors (a missing option, a bad number) become one line too."""
    # Typer raises the exceptions of the click it runs on (its own vendored copy in recent versions);
    # BadParameter's base is that click's UsageError.
    usage_error: Any = typer.BadParameter.__mro__[1]
    # The neo4j driver logs a lost connection on stderr itself; our one-line error already says it.
    logging.getLogger("neo4j").addHandler(logging.NullHandler())
    # The library's warnings (e.g. an agent class never instantiated) as one line, like our own warnings.
    warnings.formatwarning = lambda message, *_args, **_kw: f"warning: {message}\n"
    try:
        code = app(standalone_mode=False)
    except usage_error as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # no arguments: the help text, as Typer would print it
            e.show()
        else:
            where = f"{e.ctx.command_path}: " if e.ctx is not None else ""
            error_line("error", where + e.format_message())
        code = 2
    except typer.Abort:
        error_line("error", "interrupted")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
