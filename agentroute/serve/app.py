"""The FastAPI app: OpenAI-compatible chat completions, feedback, recent runs and the routing inspector page.

Safety is part of the app, not of a proxy in front of it: an optional bearer token (every endpoint but
``/health`` and the static inspector page refuses requests without it), request size and message count
limits, a per-request timeout, and errors as one-line JSON bodies (never a traceback; secrets redacted).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from agentroute.llm import LLMConfigError
from agentroute.routers.base import NotTrainedError
from agentroute.secrets import answer_redactor, redactor
from agentroute.serve import protocol
from agentroute.serve.service import RoutingService, Served, UnknownModel, UnknownRun

log = logging.getLogger("agentroute.serve")
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class ServeConfig:
    """Server settings, fixed when the app is created (the app never reads the environment itself).

    ``redact``: more secret values (e.g. agents' provider keys) to blank out of anything the server sends.
    """

    api_key: str | None = field(default=None, repr=False)  # never printed with the config
    max_body_bytes: int = 1_000_000
    max_messages: int = 256
    request_timeout_s: float = 120.0
    redact: tuple[str, ...] = field(default=(), repr=False)
    #: the Host headers served (None or "*" among them: any). ``serve`` on loopback allows only loopback
    #: names unless told others (a reverse proxy's), so a web page the user visits cannot reach the server
    #: through a DNS name rebound to 127.0.0.1.
    allowed_hosts: tuple[str, ...] | None = None


class ApiError(Exception):
    """An error the client caused or should see: becomes an OpenAI-style error body with ``status``."""

    def __init__(
        self,
        status: int,
        message: str,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param


#: OpenAI's clients retry 408, 409, 429 and 5xx unless told not to: a request that timed out after running
#: its agents, or a server that needs its operator, gains nothing from the same request again.
NO_RETRY = {"x-should-retry": "false"}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(data, status_code=status, media_type="application/json", headers=headers)


def _param(e: ValidationError) -> str | None:
    """The request field the first validation error is about (OpenAI's ``param``)."""
    loc = e.errors()[0].get("loc", ())
    return str(loc[0]) if loc else None


def _problem(e: ValidationError) -> str:
    """The first validation error as one line: where it is and what was expected."""
    err = e.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "body"
    return f"{where}: {err.get('msg', 'invalid value')}"


def _authorize(request: Request, key: bytes | None) -> None:
    """Nothing when no key is set or the request shows it as a bearer token; else a 401 ``ApiError``."""
    if key is None:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key):
        raise ApiError(
            401,
            "missing or wrong API key: send the header 'Authorization: Bearer <key>'",
            "authentication_error",
            "invalid_api_key",
        )


async def _read_json(request: Request, model: type[BaseModel], cfg: ServeConfig) -> Any:
    """The body validated as ``model``: JSON only (a web page can post other types to a local server
    without asking it first), read in chunks so a body over ``max_body_bytes`` is refused (413) before it
    is all in memory, whatever its content-length says, and within the request timeout (408: a half-sent
    body holds nothing open)."""
    limit, timeout_s = cfg.max_body_bytes, cfg.request_timeout_s
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        why = f"expected content-type application/json, got {kind or 'none'}"
        raise ApiError(415, why, code="unsupported_media_type")
    length = request.headers.get("content-length", "")
    too_big = f"request body is larger than {limit} bytes (the server's max_body_bytes)"
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, too_big, code="request_too_large")

    async def read() -> bytes:
        chunks, size = [], 0
        async for part in request.stream():
            size += len(part)
            if size > limit:
                raise ApiError(413, too_big, code="request_too_large")
            chunks.append(part)
        return b"".join(chunks)

    try:
        body = await asyncio.wait_for(read(), timeout_s)
    except TimeoutError:
        raise ApiError(408, f"request body not received within {timeout_s:g} s", code="request_timeout") from None
    try:
        return model.model_validate_json(body)
    except ValidationError as e:
        raise ApiError(400, _problem(e), param=_param(e)) from None


class _KnownHosts:
    """ASGI middleware answering 421 to a request whose Host is not allowed (a plain ASGI wrapper: starlette's
    ``BaseHTTPMiddleware`` would cost every request, streams included, a task of its own)."""

    def __init__(self, app: Any, allowed: set[str]) -> None:
        self.app, self.allowed = app, allowed

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = dict(scope.get("headers") or ()).get(b"host", b"").decode("latin-1")
            if _host_name(host) not in self.allowed:
                why = (
                    f"Host {_host_name(host)!r} is not served here: the server answers loopback names "
                    f"(agentroute serve --allowed-hosts {_host_name(host)} adds it)"
                    if host
                    else "missing Host header"
                )
                body = protocol.error_body(why, "invalid_request_error", "host_not_allowed")
                await _json(body, 421)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _host_name(header: str) -> str:
    """The host of a Host header, without its port (``[::1]:8000`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
    return name.rstrip(".")  # "localhost." is localhost


def _error_response(e: Exception, request: Request, redact: Callable[[str | None], str | None]) -> Response:
    """An exception as OpenAI's error shape, in one redacted line: the client's mistakes as 4xx, what the
    operator can fix (an untrained router, no LLM endpoint) saying how, anything else a bare 500."""
    if isinstance(e, ApiError):
        headers = {"www-authenticate": "Bearer"} if e.status == 401 else NO_RETRY if e.status == 504 else None
        return _json(protocol.error_body(redact(e.message) or "", e.type, e.code, e.param), e.status, headers)
    if isinstance(e, NotTrainedError):
        why = (
            f"{e}; it trains on the store's scored runs: serve --model CHECKPOINT, or --refit-every N "
            "to retrain it after every N feedbacks"
        )
        return _json(protocol.error_body(redact(why) or "", "model_not_ready", "model_not_trained"), 409, NO_RETRY)
    if isinstance(e, LLMConfigError):
        why = f"this model calls an LLM and none is configured or reachable: {e}"
        return _json(protocol.error_body(redact(why) or "", "server_error", "llm_not_configured"), 503, NO_RETRY)
    log.error("%s %s failed: %s: %s", request.method, request.url.path, type(e).__name__, redact(str(e)))
    return _json(protocol.error_body(f"internal error ({type(e).__name__})", "server_error"), 500)


def create_app(service: RoutingService, config: ServeConfig | None = None) -> FastAPI:
    """The HTTP app over a ``RoutingService``. Closing the service's store stays with its owner."""
    cfg = config or ServeConfig()
    redact = protocol.Redaction(
        errors=redactor([*(cfg.redact or ()), cfg.api_key or ""]),
        answers=answer_redactor(cfg.redact or (), always=[cfg.api_key or ""]),
    )
    key = cfg.api_key.encode() if cfg.api_key else None
    page = resources.files("agentroute.serve").joinpath("inspector.html").read_text(encoding="utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await service.aclose()

    app = FastAPI(title="agentroute", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    if cfg.allowed_hosts is not None and "*" not in cfg.allowed_hosts:
        app.add_middleware(_KnownHosts, allowed={_host_name(h) for h in cfg.allowed_hosts})

    def guarded(handler: Handler, public: bool = False) -> Handler:
        """Checks the key (unless ``public``); errors become one-line JSON bodies, never a traceback."""

        @functools.wraps(handler)
        async def wrapper(request: Request) -> Response:
            try:
                if not public:
                    _authorize(request, key)
                return await handler(request)
            except Exception as e:  # noqa: BLE001 - the client gets one line, never a traceback
                return _error_response(e, request, redact.errors)

        return wrapper

    async def health(request: Request) -> Response:
        return _json({"status": "ok", "router": service.default, "agents": len(service.agents)})

    app.get("/health")(guarded(health, public=True))

    @app.get("/")
    async def inspector(request: Request) -> Response:
        # Static HTML with no data in it: it asks for the key itself when the API answers 401.
        return HTMLResponse(page, headers={"cache-control": "no-store"})

    @app.get("/v1/models")
    @guarded
    async def models(request: Request) -> Response:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "agentroute"} for m in service.models()]
        return _json({"object": "list", "data": data})

    @app.get("/v1/models/{model_id:path}")
    @guarded
    async def model(request: Request) -> Response:
        model_id = request.path_params["model_id"]
        if model_id not in service.models():
            raise ApiError(404, f"unknown model {model_id!r}: GET /v1/models lists them", code="model_not_found")
        return _json({"id": model_id, "object": "model", "created": 0, "owned_by": "agentroute"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> Response:
        """Unknown paths and methods answer in OpenAI's error shape too, not FastAPI's ``{"detail": ...}``."""
        what = "no such endpoint" if e.status_code == 404 else str(e.detail).lower()
        path = redact.errors(request.url.path) or ""  # a client may paste anything into a path
        body = protocol.error_body(f"{request.method} {path}: {what}", "invalid_request_error")
        return _json(body, e.status_code, dict(e.headers or {}))  # a 405 keeps its Allow header

    @app.post("/v1/chat/completions")
    @guarded
    async def chat(request: Request) -> Response:
        started = time.monotonic()  # the request's time runs from here: body, router build, agents

        def left() -> float:
            return max(cfg.request_timeout_s - (time.monotonic() - started), 0.001)

        req: protocol.ChatRequest = await _read_json(request, protocol.ChatRequest, cfg)
        if len(req.messages) > cfg.max_messages:
            many = f"messages: {len(req.messages)} messages, more than the limit of {cfg.max_messages}"
            raise ApiError(400, many, param="messages")
        try:
            question, context = req.question_and_context()
            query = service.query(question, context)
        except ValueError as e:
            raise ApiError(400, str(e), param="messages") from None
        try:  # a router built on first use (trained, maybe) counts against the request's time too
            await asyncio.wait_for(service.engine(req.model), left())
        except UnknownModel as e:
            raise ApiError(404, str(e), code="model_not_found") from None
        except TimeoutError:
            why = f"router {req.model!r} not ready within {cfg.request_timeout_s:g} s (it goes on being built)"
            raise ApiError(504, why, "timeout") from None
        if req.stream:
            include_usage = bool(req.stream_options and req.stream_options.include_usage)
            events = _stream(service, req.model, query, req.include_graph, include_usage, cfg, redact, left())
            headers = {"cache-control": "no-cache", "x-agentroute-id": query.id}
            return StreamingResponse(events, media_type="text/event-stream", headers=headers)
        try:
            served = await asyncio.wait_for(service.ask(req.model, query), left())
        except TimeoutError:
            raise ApiError(504, f"no answer within {cfg.request_timeout_s:g} s (request timeout)", "timeout") from None
        headers = {"x-agentroute-decision": protocol.header_decision(served), "x-agentroute-id": served.id}
        return _json(protocol.completion(served, redact), headers=headers)

    @app.post("/v1/feedback")
    @guarded
    async def feedback(request: Request) -> Response:
        req: protocol.FeedbackRequest = await _read_json(request, protocol.FeedbackRequest, cfg)
        try:
            result = await service.feedback(req.id, req.score, req.preferred, req.scores)
        except UnknownRun as e:
            raise ApiError(404, e.args[0], code="run_not_found") from None
        except ValueError as e:
            raise ApiError(400, str(e)) from None
        return _json(result)

    @app.get("/v1/budget")
    @guarded
    async def budget(request: Request) -> Response:
        return _json({"object": "list", "data": service.budgets()})

    @app.get("/v1/runs")
    @guarded
    async def runs(request: Request) -> Response:
        raw = request.query_params.get("limit", "50")
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise ApiError(400, "limit: expected a whole number from 1 to 1000", param="limit")
        await service.recorded()
        return _json({"object": "list", "data": await asyncio.to_thread(service.runs, int(raw))})

    @app.get("/v1/runs/{run_id}")
    @guarded
    async def run(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        await service.recorded(run_id)
        try:
            return _json(await asyncio.to_thread(service.run, run_id))
        except UnknownRun as e:
            raise ApiError(404, e.args[0], code="run_not_found") from None

    return app


async def _stream(
    service: RoutingService,
    model: str,
    query: Any,
    graph: bool,
    include_usage: bool,
    cfg: ServeConfig,
    redact: protocol.Redaction,
    time_left: float,
) -> AsyncIterator[bytes]:
    """Chat-completion chunks: the role and the decision first, one chunk per agent as it finishes, the
    answer, a final chunk with the whole routing record (and usage when asked), then ``[DONE]``."""
    id, created = query.id, int(time.time())
    chunk = functools.partial(protocol.chunk, usage_follows=include_usage)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + time_left
    # The pipeline runs in a task of its own, which this response cancels however it ends (done, timed
    # out, or the client went away), so the agents still running are cancelled too.
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    producer = asyncio.ensure_future(_pump(service.events(model, query, graph), inbox))
    first = True
    try:
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError
            item = await asyncio.wait_for(inbox.get(), left)
            if item is _END:
                break
            if isinstance(item, Exception):
                raise item
            kind, value = item
            delta: dict[str, Any] = {"role": "assistant", "content": ""} if first else {}
            first = False
            if kind == "graph":
                yield chunk(id, model, created, delta, extra={"event": "graph", "graph": value})
            elif kind == "decision":
                yield chunk(
                    id, model, created, delta, extra={"event": "decision", **protocol.decision_view(value, redact)}
                )
            elif kind == "agent":
                yield chunk(id, model, created, delta, extra={"event": "agent", **protocol.agent_view(value, redact)})
            elif kind == "answer":
                served: Served = value
                yield chunk(id, model, created, {**delta, "content": protocol.content(served, redact)})
                yield chunk(id, model, created, {}, "stop", extra={"event": "done", **protocol.routing(served, redact)})
                if include_usage:
                    usage = protocol.usage(served.answer)
                    yield protocol.sse(
                        {
                            "id": id,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": model,
                            "choices": [],
                            "usage": usage,
                        }
                    )
    except TimeoutError:
        text = f"No answer within {cfg.request_timeout_s:g} s (request timeout)."
        yield chunk(
            id,
            model,
            created,
            {"role": "assistant", "content": text} if first else {"content": text},
            "stop",
            extra={"event": "error", "error": text},
        )
    except Exception as e:  # noqa: BLE001 - headers are sent: report in-band, in one line
        log.error("stream %s failed: %s: %s", id, type(e).__name__, redact.errors(str(e)))
        fixable = isinstance(e, (NotTrainedError, LLMConfigError))  # the operator's to fix: say what
        text = f"No answer: {redact.errors(str(e))}." if fixable else f"No answer: internal error ({type(e).__name__})."
        delta = {"role": "assistant", "content": text} if first else {"content": text}
        yield chunk(id, model, created, delta, "stop", extra={"event": "error", "error": text})
    finally:
        # Not awaited: awaiting a task makes a cancel scope's repeated cancellations (starlette's, when the
        # client goes away) cancel the task itself again and again, cutting short its own cancellation of
        # the agents it runs.
        producer.cancel()
        producer.add_done_callback(_drop_outcome)
    yield b"data: [DONE]\n\n"


_END = object()


def _drop_outcome(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


async def _pump(events: AsyncGenerator[tuple[str, Any], None], inbox: asyncio.Queue[Any]) -> None:
    """Put each event in the inbox, then ``_END``, or the exception that stopped them."""
    try:
        async for event in events:
            inbox.put_nowait(event)
    except Exception as e:  # noqa: BLE001 - raised again by the response that reads the inbox
        inbox.put_nowait(e)
    else:
        inbox.put_nowait(_END)
    finally:
        await events.aclose()
