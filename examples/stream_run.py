"""Stream a run: the routing decision, each agent's start and finish, and the answer, as they happen.

python examples/stream_run.py
"""

from __future__ import annotations

import asyncio

from agentroute import AgentRoute, build_suite
from agentroute.events import format_event

suite = build_suite(seed=0)
ar = AgentRoute(suite.agents, router="all")  # every agent, so there is plenty to watch
graph = ar.as_graph().compile()

# 1. LangGraph's own streaming: node updates and agentroute's custom events, interleaved in order.
for mode, chunk in graph.stream({"question": "What is 17 * 23?"}, stream_mode=["updates", "custom"]):
    if mode == "custom":
        print(format_event(chunk))
    else:
        print(f"[node finished: {', '.join(chunk)}]")


# 2. astream_events: the same events arrive as on_custom_event named "agentroute".
async def main() -> None:
    async for event in graph.astream_events({"question": "Convert 12 km to miles."}, version="v2"):
        if event["event"] == "on_custom_event" and event["name"] == "agentroute":
            data = event["data"]
            if data["event"] in ("decision", "answer"):
                print("astream_events:", format_event(data))


asyncio.run(main())
ar.close()
