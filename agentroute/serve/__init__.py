"""``agentroute serve``: an OpenAI-compatible routing endpoint that records every run, learns from feedback
and shows its decisions in a small inspector page.

``service.py`` (routing + routing memory, no HTTP) -> ``protocol.py`` (the OpenAI wire format) -> ``app.py``
(FastAPI endpoints and safety) -> ``server.py`` (options -> service -> uvicorn). Nothing is imported here,
so ``import agentroute`` never pulls in FastAPI.
"""
