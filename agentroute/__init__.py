"""agentroute: multi-agent question answering with knowledge-graph routing.

The public API is exactly ``__all__``; everything else is private implementation. Names are imported
lazily so ``import agentroute`` (and the CLI) stays fast until torch-backed parts are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # agents
    "Agent": "agentroute.agents.base",
    "FunctionAgent": "agentroute.agents.base",
    "agent": "agentroute.agents.base",
    "AgentDefinitionError": "agentroute.agents.base",
    "AgentPool": "agentroute.agents.pool",
    "AgentExecutor": "agentroute.agents.executor",
    "load_agents": "agentroute.agents.loading",
    "AgentLoadError": "agentroute.agents.loading",
    "ReplayAgent": "agentroute.agents.replay",
    "replay_pool": "agentroute.agents.replay",
    # shared models
    "AgentSpec": "agentroute.types",
    "Query": "agentroute.types",
    "AgentResult": "agentroute.types",
    "RoutingDecision": "agentroute.types",
    "Answer": "agentroute.types",
    "RunRecord": "agentroute.types",
    "AgentRecord": "agentroute.types",
    "QueryGraph": "agentroute.types",
    "PastQuery": "agentroute.types",
    "TrainExample": "agentroute.types",
    "TokenUsage": "agentroute.types",
    # LLMs
    "ChatModel": "agentroute.llm",
    "Completion": "agentroute.llm",
    "OpenAIChatModel": "agentroute.llm",
    "LLMError": "agentroute.llm",
    "LLMConfigError": "agentroute.llm",
    "load_prices": "agentroute.prices",
    "LLMSettings": "agentroute.llm",
    "make_chat_model": "agentroute.llm",
    "ScriptedChatModel": "agentroute.testing.scripted",
    "LLMAgent": "agentroute.agents.llm",
    # knowledge graph
    "GraphStore": "agentroute.kg.store",
    "open_store": "agentroute.kg.store",
    "register_store": "agentroute.kg.store",
    "QueryGraphBuilder": "agentroute.kg.builder",
    "Embedder": "agentroute.kg.embed",
    "make_embedder": "agentroute.kg.embed",
    "register_embedder": "agentroute.kg.embed",
    "EntityExtractor": "agentroute.kg.extract",
    "make_extractor": "agentroute.kg.extract",
    "register_extractor": "agentroute.kg.extract",
    # routing, aggregation, execution
    "Router": "agentroute.routers.base",
    "BaseRouter": "agentroute.routers.base",
    "SharesTraining": "agentroute.routers.base",
    "TracksSpend": "agentroute.routers.base",
    "make_router": "agentroute.routers.base",
    "register_router": "agentroute.routers.base",
    "router_names": "agentroute.routers.base",
    "router_info": "agentroute.routers.base",
    "RouterInfo": "agentroute.routers.base",
    "load_router": "agentroute.routers.base",
    "DEFAULT_ROUTERS": "agentroute.routers.base",
    "GNNRouter": "agentroute.routers.gnn.router",
    "GNNConfig": "agentroute.routers.gnn.config",
    "CheckpointError": "agentroute.routers.gnn.checkpoint",
    "set_torch_threads": "agentroute.threads",
    "torch_threads": "agentroute.threads",
    "Aggregator": "agentroute.aggregate",
    "make_aggregator": "agentroute.aggregate",
    "register_aggregator": "agentroute.aggregate",
    "AgentRoute": "agentroute.workflow",
    "build_router_graph": "agentroute.pipeline",
    "RouteKeys": "agentroute.pipeline",
    "make_examples": "agentroute.kg.examples",
    # serving
    "create_app": "agentroute.serve.app",
    "ServeConfig": "agentroute.serve.app",
    "RoutingService": "agentroute.serve.service",
    # data and benchmarks
    "build_suite": "agentroute.suite",
    "builtin_agents": "agentroute.suite",
    "bootstrap_suite": "agentroute.commands",
    "read_routing_log": "agentroute.bench.logs",
    "run_replay_benchmark": "agentroute.bench.replay",
    "exact_match": "agentroute.normalize",
    "f1": "agentroute.normalize",
    "normalize_answer": "agentroute.normalize",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentroute' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from agentroute.agents.base import Agent, AgentDefinitionError, FunctionAgent, agent  # noqa: F401
    from agentroute.agents.pool import AgentPool  # noqa: F401
    from agentroute.pipeline import RouteKeys, build_router_graph  # noqa: F401
    from agentroute.workflow import AgentRoute  # noqa: F401
