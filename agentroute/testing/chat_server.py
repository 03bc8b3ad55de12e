"""A real OpenAI-compatible Chat Completions server on loopback with scripted replies, for tests.

It speaks HTTP like any hosted endpoint, so the real ``openai`` client (and anything built on it) is
exercised end to end: ``stop`` sequences (cut off, not returned), ``max_tokens``, usage fields, and the
failures a real endpoint produces — 429 with ``Retry-After``, 5xx, invalid JSON, replies slower than the
client's timeout. Every request is recorded.

    with ChatServer(["Answer: Paris"]) as server:
        model = OpenAIChatModel("scripted", base_url=server.url)

A script is a list (one item per request, in order) or a function of the ``ChatRequest``. An item is the
reply text or a ``Reply`` describing a failure or a delay.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agentroute.llm import count_tokens, cut_at_stop


@dataclass
class Reply:
    """One scripted response: text, or a failure (``status`` != 200, ``invalid_json``), after ``delay_s``."""

    text: str = ""
    status: int = 200
    retry_after: float | None = None
    delay_s: float = 0.0
    invalid_json: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass
class ChatRequest:
    """A request as the server received it."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any]  # everything else in the body: stop, temperature, max_tokens, …
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    path: str = "/v1/chat/completions"

    @property
    def prompt(self) -> str:
        """The last user message (what most scripts branch on)."""
        users = [m.get("content", "") for m in self.messages if m.get("role") == "user"]
        return str(users[-1]) if users else ""

    @property
    def system(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == "system")


ScriptItem = str | Reply
ServerScript = Sequence[ScriptItem] | Callable[[ChatRequest], ScriptItem]


class ChatServer:
    """A threaded HTTP server on ``127.0.0.1`` (free port) answering ``POST /v1/chat/completions`` and
    ``GET /v1/models``. Use as a context manager, or ``start()`` / ``stop()``.

    ``require_key``: when set, requests without ``Authorization: Bearer <key>`` get 401.
    """

    def __init__(
        self, script: ServerScript, *, model: str = "scripted", require_key: str | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.model = model
        self.require_key = require_key
        self.requests: list[ChatRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most chat requests served at once (to check client concurrency limits)
        self._script = script
        self._next = 0
        self._lock = threading.Lock()
        self._httpd = _QuietServer((host, 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give a client (``…/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ChatServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, name="chat-server", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def chat_requests(self) -> list[ChatRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def record(self, request: ChatRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def next_reply(self, request: ChatRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if callable(self._script):
                item: ScriptItem = self._script(request)
            elif self._next < len(self._script):
                item = self._script[self._next]
                self._next += 1
            else:
                n = self._next
                return Reply(status=400, text=f"scripted chat server: script exhausted after {n} replies")
        return item if isinstance(item, Reply) else Reply(text=str(item))

    def response_body(self, request: ChatRequest, reply: Reply) -> dict[str, Any]:
        text, stopped = cut_at_stop(reply.text, request.params.get("stop"))
        finish = "stop"
        limit = request.params.get("max_tokens") or request.params.get("max_completion_tokens")
        if isinstance(limit, int) and count_tokens(text) > limit:
            text, finish = " ".join(text.split()[:limit]), "length"
        prompt_tokens = reply.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = sum(count_tokens(str(m.get("content", ""))) for m in request.messages)
        completion_tokens = count_tokens(text) if reply.completion_tokens is None else reply.completion_tokens
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


class _QuietServer(ThreadingHTTPServer):
    """Clients that gave up (timeouts) close their sockets mid-reply: that is expected here, not an error.
    The listen backlog matches a real server's, so a burst of concurrent clients is not refused at connect."""

    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do
        # TCP_NODELAY, as real servers set: headers and body go out in two writes, and with Nagle's
        # algorithm the body waited for the client's delayed ACK (about 40 ms per reply on Linux).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: tests read requests
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
            body = {"error": {"message": message, "type": "scripted_error", "code": status}}
            self._send(status, json.dumps(body).encode(), headers)

        def _authorised(self) -> bool:
            if server.require_key is None:
                return True
            if self.headers.get("Authorization") == f"Bearer {server.require_key}":
                return True
            self._error(401, "invalid API key")
            return False

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if not self.path.rstrip("/").endswith("/models"):
                self._error(404, f"no route {self.path}")
                return
            if self._authorised():
                data = [{"id": server.model, "object": "model", "owned_by": "agentroute-testing"}]
                self._send(200, json.dumps({"object": "list", "data": data}).encode())

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, f"no route {self.path}")
                return
            try:
                body = json.loads(raw)
                messages = body.pop("messages")
                model = str(body.pop("model"))
            except (ValueError, KeyError, AttributeError):
                self._error(400, "expected a JSON body with model and messages")
                return
            if body.get("stream"):
                self._error(400, "the scripted chat server does not stream")
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = ChatRequest(model=model, messages=messages, params=body, headers=headers, path=self.path)
            if server.require_key is not None and headers.get("authorization") != f"Bearer {server.require_key}":
                server.record(request)
                self._error(401, "invalid API key")
                return
            server.enter()
            try:
                self._reply(request, server.next_reply(request))
            finally:
                server.leave()

        def _reply(self, request: ChatRequest, reply: Reply) -> None:
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if reply.status != 200:
                extra = {} if reply.retry_after is None else {"Retry-After": f"{reply.retry_after:g}"}
                self._error(reply.status, reply.text or f"scripted HTTP {reply.status}", extra)
            elif reply.invalid_json:
                self._send(200, b'{"id": "chatcmpl-broken", "choices": [')
            else:
                self._send(200, json.dumps(server.response_body(request, reply)).encode())

    return Handler
