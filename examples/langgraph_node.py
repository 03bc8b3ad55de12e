"""Embed the router in your own LangGraph chat app as one node (the app keeps its own state and keys).

python examples/langgraph_node.py
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from agentroute import AgentResult, AgentRoute, RoutingDecision, build_suite

suite = build_suite(seed=0)  # the built-in offline suite: a generated world and its tool agents
ar = AgentRoute(suite.agents, router="knn")
suite.world.load_into(ar.store)  # entities and relations of the world, for the query graphs
ar.profile(suite.train[:300])  # every agent on labelled questions: the history the router learns from
ar.fit()


class Chat(TypedDict, total=False):
    """The app's own state: a transcript, the user's message, and where agentroute's outputs go."""

    transcript: Annotated[list[str], operator.add]
    user_message: str
    bot_answer: str
    routing: RoutingDecision  # declared, so a strict checkpointer restores it as one
    agent_runs: list[AgentResult]  # one per agent called


def reply(state: Chat) -> dict[str, Any]:
    called = ", ".join(r.agent for r in state["agent_runs"])
    text = f"The answer is {state['bot_answer'] or 'unknown'} (asked {called})."
    return {"transcript": [f"user: {state['user_message']}", f"bot: {text}"]}


app = StateGraph(Chat)
app.add_node("agentroute", ar.as_node("user_message", "bot_answer", decision_key="routing", results_key="agent_runs"))
app.add_node("reply", reply)
app.add_edge(START, "agentroute")
app.add_edge("agentroute", "reply")
app.add_edge("reply", END)
chat = app.compile()

transcript: list[str] = []
for message in ["What is 17 * 23?", "Convert 12 km to miles.", suite.test[0].text]:
    state = chat.invoke({"user_message": message})  # or: await chat.ainvoke(...)
    transcript += state["transcript"]
print("\n".join(transcript))
print(f"(gold answer of the last question: {', '.join(suite.test[0].gold or [])})")
ar.close()
