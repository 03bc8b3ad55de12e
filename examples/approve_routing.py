"""Human approval: pause after routing, show the decision, and resume with it accepted, edited or rejected.

python examples/approve_routing.py
"""

from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from agentroute import AgentRoute, build_suite

suite = build_suite(seed=0)
ar = AgentRoute(suite.agents, router="knn", k=1)  # no history: agents are routed by their descriptions
graph = ar.as_graph(approval=True).compile(checkpointer=InMemorySaver())  # interrupts need a checkpointer

replies = {
    "accept": "accept",
    "edit": {"action": "edit", "agents": ["generalist", "calculator"]},
    "reject": {"action": "reject", "reason": "not worth a call"},
}
for n, (name, reply) in enumerate(replies.items()):
    thread = {"configurable": {"thread_id": f"review-{n}"}}
    paused = graph.invoke({"question": "What is 17 * 23?"}, thread)
    request = paused["__interrupt__"][0].value  # what a reviewer sees
    shown = {a: round(request["probs"][a], 3) for a in request["selected"]}
    print(f"[{name}] router proposes {shown}; rationale: {request['rationale']}")
    final = graph.invoke(Command(resume=reply), thread)
    called = [r.agent for r in final["results"]]
    print(f"[{name}] reply {reply!r} -> called {called}, answer {final['answer']!r}")
ar.close()
