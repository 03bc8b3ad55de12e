"""Durable execution: checkpoint a run in SQLite, stop it after routing, resume it later (another process
could), and see that nothing that already ran runs again.

    python examples/checkpoint_resume.py
    POSTGRES_URI=postgresql://user@host/db python examples/checkpoint_resume.py   # PostgresSaver instead
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from agentroute import AgentRoute, Query, agent

calls: Counter[str] = Counter()


@agent(name="adder", description="Adds the numbers in a question.", skills=["arithmetic"])
def adder(q: Query) -> str:
    calls["adder"] += 1
    return str(sum(int(t) for t in q.text.replace("?", " ").split() if t.isdigit()))


@agent(name="guesser", description="Always guesses 42.", skills=["guessing"])
def guesser(q: Query) -> str:
    calls["guesser"] += 1
    return "42"


def saver(path: Path):  # noqa: ANN201 - a context manager of a checkpointer
    uri = os.environ.get("POSTGRES_URI")
    if uri:
        from langgraph.checkpoint.postgres import PostgresSaver

        return PostgresSaver.from_conn_string(uri)
    return SqliteSaver.from_conn_string(str(path))


ar = AgentRoute([adder, guesser], router="all")
thread = {"configurable": {"thread_id": "order-1234"}}
with tempfile.TemporaryDirectory() as tmp:
    db = Path(tmp) / "checkpoints.sqlite"
    with saver(db) as cp:
        if hasattr(cp, "setup"):
            cp.setup()  # PostgresSaver: create its tables once
        # interrupt_after stops the run right after routing, as a crash there would
        graph = ar.as_graph().compile(checkpointer=cp, interrupt_after=["route"])
        graph.invoke({"question": "What is 19 plus 24?"}, thread)
        state = graph.get_state(thread)
        print("stopped after routing; next:", state.next, "decision:", state.values["decision"].selected)
        print("agent calls so far:", dict(calls))

    with saver(db) as cp:  # a fresh checkpointer, as a restarted process would open
        graph = ar.as_graph().compile(checkpointer=cp)
        final = graph.invoke(None, thread)  # None = continue the thread from its last checkpoint
        print("resumed; answer:", final["answer"], "support:", final["support"])
        print("agent calls in total:", dict(sorted(calls.items())), "(each agent once; routing was not redone)")
        steps = [s.next for s in graph.get_state_history(thread)]
        print("checkpoints in the thread:", len(steps))
ar.close()
