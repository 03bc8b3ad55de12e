"""Route with an LLM that reads the agents' descriptions (the ``reasoning`` router) at any OpenAI-compatible
endpoint: a local vLLM / llama.cpp / Ollama server, or api.openai.com.

    AGENTROUTE_BASE_URL=http://localhost:8000/v1 AGENTROUTE_LLM_MODEL=qwen2.5-7b python examples/reasoning_router.py
    OPENAI_API_KEY=... AGENTROUTE_LLM_MODEL=gpt-4o-mini python examples/reasoning_router.py

With no endpoint configured it says so and stops (nothing is sent anywhere).
"""

from __future__ import annotations

from agentroute import AgentRoute, build_suite, make_router
from agentroute.llm import LLMConfigError, OpenAIChatModel

try:
    model = OpenAIChatModel()  # endpoint, model and key from the environment (see above)
except LLMConfigError as e:
    print(f"skipped: no OpenAI-compatible endpoint to route with ({e})")
    raise SystemExit(0) from None

suite = build_suite(seed=0)
router = make_router("reasoning", llm=model, max_agents=2)  # new agents join by their description alone
with AgentRoute(suite.agents, router) as ar:
    for question in ["What is 17 * 23?", "Convert 12 km to miles."]:
        answer = ar.ask(question)
        print(f"{question} -> {answer.text!r} via {answer.decision.selected}")
        print(f"  the model's reasoning: {answer.decision.rationale}")
