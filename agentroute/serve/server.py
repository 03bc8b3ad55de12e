"""Build a ``RoutingService`` from the ``serve`` command's options and run it under uvicorn."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from agentroute.agents.loading import load_agents
from agentroute.agents.pool import AgentPool
from agentroute.commands import builtin_pool, has_history, is_scratch, load_router, unknown_pool_notice
from agentroute.kg.store import GraphStore, open_store
from agentroute.llm import LLMSettings, connect_parts
from agentroute.secrets import answer_redactor, secret_values
from agentroute.serve.app import ServeConfig, create_app
from agentroute.serve.service import RoutingService


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_service(
    store: GraphStore,
    *,
    agents: str | AgentPool | None = None,
    router: str = "knn",
    model: Path | None = None,
    seed: int = 0,
    k: int | None = None,
    timeout_s: float = 60.0,
    refit_every: int = 0,
    progress: Callable[[str], None] = lambda _: None,
    bootstrap: bool = False,
    llm: LLMSettings | None = None,
    redact: Callable[[str | None], str | None] = lambda text: text,
) -> RoutingService:
    """The service behind ``agentroute serve``. With the built-in agents and ``bootstrap`` (the in-memory
    store), the suite's training history is loaded first (as ``ask`` does), so a learned router has history;
    a store the user names is never written here. Parts calling an LLM are bound to ``llm``'s endpoint, which
    is checked before anything is served; ``redact`` blanks secrets out of what the store keeps."""
    if agents is None:
        pool = builtin_pool(store, seed, bootstrap=bootstrap, notice=progress)
    else:
        pool = agents if isinstance(agents, AgentPool) else load_agents(agents)
    if model is None and has_history(store):
        progress(f"fitting router {router!r} on the store's history")
    chosen = load_router(router, model, seed)
    connect_parts([*pool, chosen], llm)  # fail now, not on the first request, when the endpoint is down
    strangers = unknown_pool_notice(chosen, [a.name for a in pool], model) if model is not None else ""
    if strangers:
        progress(strangers)
    return RoutingService(
        pool,
        chosen,
        store,
        fitted=model is not None,
        seed=seed,
        k=k,
        timeout_s=timeout_s,
        refit_every=refit_every,
        llm=llm,
        redact=redact,
    )


def serve(
    *,
    agents: str | AgentPool | None = None,
    router: str = "knn",
    model: Path | None = None,
    store: str = "memory",
    host: str = "127.0.0.1",
    port: int = 8000,
    seed: int = 0,
    k: int | None = None,
    timeout_s: float = 60.0,
    config: ServeConfig | None = None,
    refit_every: int = 0,
    access_log: bool = True,
    progress: Callable[[str], None] = lambda _: None,
    llm: LLMSettings | None = None,
) -> None:
    """Open the store, build the service and serve until interrupted; the store is closed (saved) on exit."""
    import uvicorn

    cfg = config or ServeConfig()
    if not is_loopback(host) and not cfg.api_key:
        progress(f"warning: serving on {host} without AGENTROUTE_API_KEY: anyone who can reach it can use it")
    if is_loopback(host):  # a DNS name rebound to 127.0.0.1 is turned away, unless the operator names it
        cfg = replace(cfg, allowed_hosts=("localhost", "127.0.0.1", "::1", host, *(cfg.allowed_hosts or ())))
    graph_store = open_store(store)
    try:
        service = build_service(
            graph_store,
            agents=agents,
            router=router,
            model=model,
            seed=seed,
            k=k,
            timeout_s=timeout_s,
            refit_every=refit_every,
            progress=progress,
            bootstrap=is_scratch(store),
            llm=llm,
            redact=answer_redactor(cfg.redact, always=[cfg.api_key or ""]),
        )
        app = create_app(service, cfg)
        progress(f"inspector: http://{host}:{port}/  ·  OpenAI base_url: http://{host}:{port}/v1")
        uvicorn.run(app, host=host, port=port, access_log=access_log, log_level="info", server_header=False)
    finally:
        graph_store.close()


def config_from_env(env: Mapping[str, str] | None = None, **limits: float) -> ServeConfig:
    """``ServeConfig`` with the key from ``AGENTROUTE_API_KEY`` (read once, here) and the given limits."""
    env = os.environ if env is None else env
    return ServeConfig(api_key=env.get("AGENTROUTE_API_KEY") or None, redact=secret_values(env), **limits)  # type: ignore[arg-type]
