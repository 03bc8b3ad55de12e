"""An LLM agent pool: backbones × prompting strategies, endpoint and models from the environment.

    AGENTROUTE_POOL_MODELS=qwen2.5-7b,llama-3.1-8b    # backbones (default: the one --llm-model names)
    AGENTROUTE_POOL_STRATEGIES=direct,cot,self-consistency,react,reflect
    AGENTROUTE_POOL_SAMPLES=3  AGENTROUTE_POOL_MAX_TOKENS=256       # optional
    agentroute agents list --agents agents/llm_pool.py
    agentroute profile --data qa.jsonl --agents agents/llm_pool.py --base-url http://127.0.0.1:8000/v1 ...

The endpoint comes from --base-url / --api-key-env (or AGENTROUTE_BASE_URL, OPENAI_BASE_URL, OPENAI_API_KEY).
"""

import os

from agentroute.agents.llm import STRATEGIES, llm_pool


def _names(var: str, default: tuple) -> list:
    return [x.strip() for x in os.environ.get(var, "").split(",") if x.strip()] or list(default)


AGENTS = llm_pool(
    backbones=_names("AGENTROUTE_POOL_MODELS", (None,)),
    strategies=_names("AGENTROUTE_POOL_STRATEGIES", STRATEGIES),
    samples=int(os.environ.get("AGENTROUTE_POOL_SAMPLES", "3")),
    max_tokens=int(os.environ["AGENTROUTE_POOL_MAX_TOKENS"]) if os.environ.get("AGENTROUTE_POOL_MAX_TOKENS") else None,
)
