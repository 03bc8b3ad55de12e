"""Embed the router in your own LangGraph app as one node.

    python examples/langgraph_node.py
"""

from __future__ import annotations

import asyncio
from typing import TypedDict

from langgraph.graph import END, START, StateGraph

from agentroute import AgentRoute, build_suite

suite = build_suite(seed=0)  # the built-in offline suite: a generated world and its tool agents
ar = AgentRoute(suite.agents, router="knn")
suite.world.load_into(ar.store)  # entities and relations of the world, for the query graphs
ar.profile(suite.train)
ar.fit()


class Chat(TypedDict, total=False):
    question: str
    answer: str
    reply: str


def polite(state: Chat) -> dict[str, str]:
    return {"reply": f"The answer is {state['answer'] or 'unknown'}."}


app = StateGraph(Chat)
app.add_node("router", ar.as_node(input_key="question", output_key="answer"))
app.add_node("polite", polite)
app.add_edge(START, "router")
app.add_edge("router", "polite")
app.add_edge("polite", END)
graph = app.compile()

for q in ["What is 17 * 23?", "Convert 12 km to miles."]:
    print(q, "->", asyncio.run(graph.ainvoke({"question": q}))["reply"])
for query in suite.test[:3]:  # held-out suite questions, with their gold answers: routing is not perfect
    reply = asyncio.run(graph.ainvoke({"question": query.text}))["reply"]
    print(query.text, "->", reply, f"(gold: {', '.join(query.gold or [])})")
