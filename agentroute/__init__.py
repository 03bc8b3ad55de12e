"""agentroute: multi-agent question answering with knowledge-graph routing.

The public API is exactly ``__all__``; everything else is private implementation. Names are imported
lazily so ``import agentroute`` (and the CLI) stays fast until torch-backed parts are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentroute.lazy import lazy_exports

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
    "StoreFileError": "agentroute.kg.stores.networkx_store",
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
    "NotTrainedError": "agentroute.routers.base",
    "SharesTraining": "agentroute.routers.base",
    "TracksSpend": "agentroute.routers.base",
    "ReasoningRouter": "agentroute.routers.reasoning",
    "MultiRoundRouter": "agentroute.routers.multiround",
    "make_router": "agentroute.routers.registry",
    "register_router": "agentroute.routers.registry",
    "router_names": "agentroute.routers.registry",
    "router_info": "agentroute.routers.registry",
    "RouterInfo": "agentroute.routers.registry",
    "load_router": "agentroute.routers.registry",
    "DEFAULT_ROUTERS": "agentroute.routers.registry",
    "GNNRouter": "agentroute.routers.gnn.router",
    "GNNConfig": "agentroute.routers.gnn.config",
    "CheckpointError": "agentroute.routers.gnn.checkpoint",
    "set_torch_threads": "agentroute.threads",
    "torch_threads": "agentroute.threads",
    "Aggregator": "agentroute.aggregate",
    "Settling": "agentroute.aggregate",
    "make_aggregator": "agentroute.aggregate",
    "register_aggregator": "agentroute.aggregate",
    "aggregator_names": "agentroute.aggregate",
    "AnswerAware": "agentroute.selection",
    "RefiningAggregator": "agentroute.refine",
    "format_event": "agentroute.events",
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
    "BenchReport": "agentroute.bench.report",
    "RouterResult": "agentroute.bench.report",
    "Paired": "agentroute.bench.report",
    "write_report": "agentroute.bench.write",
    "calibrate": "agentroute.routers.calibration",
    "Calibration": "agentroute.routers.calibration",
    "exact_match": "agentroute.normalize",
    "f1": "agentroute.normalize",
    "normalize_answer": "agentroute.normalize",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # pragma: no cover - what type checkers see: every lazy name, re-exported explicitly
    from agentroute.agents.base import Agent as Agent
    from agentroute.agents.base import AgentDefinitionError as AgentDefinitionError
    from agentroute.agents.base import FunctionAgent as FunctionAgent
    from agentroute.agents.base import agent as agent
    from agentroute.agents.executor import AgentExecutor as AgentExecutor
    from agentroute.agents.llm import LLMAgent as LLMAgent
    from agentroute.agents.loading import AgentLoadError as AgentLoadError
    from agentroute.agents.loading import load_agents as load_agents
    from agentroute.agents.pool import AgentPool as AgentPool
    from agentroute.agents.replay import ReplayAgent as ReplayAgent
    from agentroute.agents.replay import replay_pool as replay_pool
    from agentroute.aggregate import Aggregator as Aggregator
    from agentroute.aggregate import Settling as Settling
    from agentroute.aggregate import aggregator_names as aggregator_names
    from agentroute.aggregate import make_aggregator as make_aggregator
    from agentroute.aggregate import register_aggregator as register_aggregator
    from agentroute.bench.logs import read_routing_log as read_routing_log
    from agentroute.bench.replay import run_replay_benchmark as run_replay_benchmark
    from agentroute.bench.report import BenchReport as BenchReport
    from agentroute.bench.report import Paired as Paired
    from agentroute.bench.report import RouterResult as RouterResult
    from agentroute.bench.write import write_report as write_report
    from agentroute.commands import bootstrap_suite as bootstrap_suite
    from agentroute.events import format_event as format_event
    from agentroute.kg.builder import QueryGraphBuilder as QueryGraphBuilder
    from agentroute.kg.embed import Embedder as Embedder
    from agentroute.kg.embed import make_embedder as make_embedder
    from agentroute.kg.embed import register_embedder as register_embedder
    from agentroute.kg.examples import make_examples as make_examples
    from agentroute.kg.extract import EntityExtractor as EntityExtractor
    from agentroute.kg.extract import make_extractor as make_extractor
    from agentroute.kg.extract import register_extractor as register_extractor
    from agentroute.kg.store import GraphStore as GraphStore
    from agentroute.kg.store import open_store as open_store
    from agentroute.kg.store import register_store as register_store
    from agentroute.kg.stores.networkx_store import StoreFileError as StoreFileError
    from agentroute.llm import ChatModel as ChatModel
    from agentroute.llm import Completion as Completion
    from agentroute.llm import LLMConfigError as LLMConfigError
    from agentroute.llm import LLMError as LLMError
    from agentroute.llm import LLMSettings as LLMSettings
    from agentroute.llm import OpenAIChatModel as OpenAIChatModel
    from agentroute.llm import make_chat_model as make_chat_model
    from agentroute.normalize import exact_match as exact_match
    from agentroute.normalize import f1 as f1
    from agentroute.normalize import normalize_answer as normalize_answer
    from agentroute.pipeline import RouteKeys as RouteKeys
    from agentroute.pipeline import build_router_graph as build_router_graph
    from agentroute.prices import load_prices as load_prices
    from agentroute.refine import RefiningAggregator as RefiningAggregator
    from agentroute.routers.base import BaseRouter as BaseRouter
    from agentroute.routers.base import NotTrainedError as NotTrainedError
    from agentroute.routers.base import Router as Router
    from agentroute.routers.base import SharesTraining as SharesTraining
    from agentroute.routers.base import TracksSpend as TracksSpend
    from agentroute.routers.calibration import Calibration as Calibration
    from agentroute.routers.calibration import calibrate as calibrate
    from agentroute.routers.gnn.checkpoint import CheckpointError as CheckpointError
    from agentroute.routers.gnn.config import GNNConfig as GNNConfig
    from agentroute.routers.gnn.router import GNNRouter as GNNRouter
    from agentroute.routers.multiround import MultiRoundRouter as MultiRoundRouter
    from agentroute.routers.reasoning import ReasoningRouter as ReasoningRouter
    from agentroute.routers.registry import DEFAULT_ROUTERS as DEFAULT_ROUTERS
    from agentroute.routers.registry import RouterInfo as RouterInfo
    from agentroute.routers.registry import load_router as load_router
    from agentroute.routers.registry import make_router as make_router
    from agentroute.routers.registry import register_router as register_router
    from agentroute.routers.registry import router_info as router_info
    from agentroute.routers.registry import router_names as router_names
    from agentroute.selection import AnswerAware as AnswerAware
    from agentroute.serve.app import ServeConfig as ServeConfig
    from agentroute.serve.app import create_app as create_app
    from agentroute.serve.service import RoutingService as RoutingService
    from agentroute.suite import build_suite as build_suite
    from agentroute.suite import builtin_agents as builtin_agents
    from agentroute.testing.scripted import ScriptedChatModel as ScriptedChatModel
    from agentroute.threads import set_torch_threads as set_torch_threads
    from agentroute.threads import torch_threads as torch_threads
    from agentroute.types import AgentRecord as AgentRecord
    from agentroute.types import AgentResult as AgentResult
    from agentroute.types import AgentSpec as AgentSpec
    from agentroute.types import Answer as Answer
    from agentroute.types import PastQuery as PastQuery
    from agentroute.types import Query as Query
    from agentroute.types import QueryGraph as QueryGraph
    from agentroute.types import RoutingDecision as RoutingDecision
    from agentroute.types import RunRecord as RunRecord
    from agentroute.types import TokenUsage as TokenUsage
    from agentroute.types import TrainExample as TrainExample
    from agentroute.workflow import AgentRoute as AgentRoute
