"""Chat models: the ``ChatModel`` protocol, one implementation over any OpenAI-compatible endpoint
(OpenAI, vLLM, Ollama, llama.cpp's server, a LiteLLM proxy); the scripted model for tests lives in
``agentroute.testing``.

Why our own retry loop: the endpoint's ``Retry-After`` must be honoured and every attempt counted, and the
same rules (exponential backoff with jitter on 429, 5xx and connection errors) must hold for every server.
API keys live in a ``SecretStr`` and are scrubbed from every error message, so they never reach a repr,
a log line, an exception, a report or ``--json`` output.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import json
import os
import random
import re
import threading
import time
import warnings
import weakref
from collections.abc import AsyncGenerator, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeGuard, TypeVar, runtime_checkable

from pydantic import BaseModel, SecretStr

from agentroute.prices import Price, PriceFileError, as_prices, load_prices, price_for
from agentroute.secrets import redact
from agentroute.threads import LentPool
from agentroute.types import TokenUsage

__all__ = [
    "ChatModel",
    "Completion",
    "LLMConfigError",
    "LLMError",
    "LLMSettings",
    "Message",
    "NeedsLLM",
    "OpenAIChatModel",
    "Price",
    "aclose_chat_models",
    "close_built_chat_models",
    "connect_parts",
    "PriceFileError",
    "UsesChatModel",
    "as_prices",
    "load_prices",
    "make_chat_model",
    "price_for",
    "resolve_config",
    "run_closing_chat_models",
]

T = TypeVar("T")

Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}

#: Parameters passed to ``chat.completions.create`` as they are; anything else goes in ``extra_body``.
_OPENAI_PARAMS = frozenset(
    {
        "temperature",
        "max_tokens",
        "top_p",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "response_format",
        "n",
    }
)


class LLMError(RuntimeError):
    """A chat call failed for good (after retries); the message is one line and never holds a key."""


class LLMConfigError(ValueError):
    """The endpoint is not configured, not reachable, or refused the key: a user error (CLI exit 2)."""


class Completion(BaseModel):
    """One chat completion: the text (stop sequence cut off), token usage, cost and wall time."""

    text: str
    model: str
    usage: TokenUsage = TokenUsage()
    cost_usd: float = 0.0
    latency_s: float = 0.0
    finish_reason: str | None = None
    attempts: int = 1


@runtime_checkable
class ChatModel(Protocol):
    """What agents, routers and aggregators call. ``params``: temperature, max_tokens, stop, seed, …"""

    model: str

    def complete(self, messages: Sequence[Message], **params: Any) -> Completion: ...

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> Completion: ...


# ----------------------------------------------------------------------------------------- configuration


class LLMConfig(BaseModel):
    """Where and what to call. Unset fields come from the environment (see ``resolve_config``)."""

    base_url: str | None = None
    model: str
    api_key: SecretStr | None = None
    key_source: str = "none"  # which variable or argument the key came from (for messages, never the key)

    def __repr_args__(self) -> Any:  # repr/str: a base URL may carry credentials
        for name, value in super().__repr_args__():
            yield name, redact(value) if name == "base_url" and isinstance(value, str) else value


def resolve_config(
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    api_key_env: str | None = None,
    env: Mapping[str, str] | None = None,
) -> LLMConfig:
    """Arguments first, then ``AGENTROUTE_BASE_URL`` / ``AGENTROUTE_LLM_MODEL`` / ``AGENTROUTE_LLM_API_KEY``,
    then ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``. ``api_key_env`` names the variable holding the key.

    Never ``AGENTROUTE_API_KEY``: that is the key clients must show ``agentroute serve``, which must not be
    sent to an LLM provider."""
    env = os.environ if env is None else env
    base_url = base_url or env.get("AGENTROUTE_BASE_URL") or env.get("OPENAI_BASE_URL") or None
    model = model or env.get("AGENTROUTE_LLM_MODEL") or None
    source = "argument" if api_key else "none"
    if not api_key and api_key_env:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", api_key_env):  # never echo what may be a key
            raise LLMConfigError("--api-key-env expects the NAME of an environment variable, not a key")
        api_key = env.get(api_key_env)
        if not api_key:
            raise LLMConfigError(f"--api-key-env {api_key_env}: environment variable {api_key_env} is not set")
        source = api_key_env
    for name in ("AGENTROUTE_LLM_API_KEY", "OPENAI_API_KEY"):
        if not api_key and env.get(name):
            api_key, source = env[name], name
    if base_url is None and not api_key:
        raise LLMConfigError(
            "no LLM endpoint configured: pass --base-url (or set AGENTROUTE_BASE_URL / OPENAI_BASE_URL), "
            "or set OPENAI_API_KEY to use api.openai.com"
        )
    if not model:
        raise LLMConfigError("no LLM model configured: pass --llm-model or set AGENTROUTE_LLM_MODEL")
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise LLMConfigError(f"--base-url {base_url!r}: expected an http:// or https:// URL")
    return LLMConfig(base_url=base_url, model=model, api_key=SecretStr(api_key) if api_key else None, key_source=source)


# ------------------------------------------------------------------------------------------------ retries


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms``, ``Retry-After`` seconds or HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return None if parsed is None else max(0.0, parsed.timestamp() - time.time())


def backoff_s(attempt: int, base: float, cap: float, server_wait: float | None, server_cap: float = 120.0) -> float:
    """Exponential backoff with jitter (between half and all of ``base * 2**attempt``, at most ``cap``);
    a server's ``Retry-After`` wins, up to ``server_cap`` seconds."""
    if server_wait is not None:
        return min(server_wait, server_cap)
    return random.uniform(0.5, 1.0) * min(cap, base * 2**attempt)


# --------------------------------------------------------------------------------------------- the model


class OpenAIChatModel:
    """A chat model behind any OpenAI-compatible Chat Completions endpoint (the official ``openai`` client).

    ``concurrency`` caps requests in flight per endpoint (models sharing a base URL and limit share it).
    Retries: ``max_retries`` more attempts on 429, 5xx, timeouts, connection errors and malformed replies.
    """

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        api_key_env: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 4,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        concurrency: int = 8,
        prices: Mapping[str, Any] | str | Path | None = None,
        defaults: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._config = resolve_config(base_url=base_url, model=model, api_key=api_key, api_key_env=api_key_env, env=env)
        self.model = self._config.model
        self.base_url = self._config.base_url
        self.timeout_s, self.max_retries = timeout_s, max_retries
        self.backoff_base_s, self.backoff_cap_s = backoff_base_s, backoff_cap_s
        self.concurrency = max(1, concurrency)
        self.prices = as_prices(prices)
        if self.prices and self.price is None:  # a misspelt name would make every call cost $0, silently
            named = ", ".join(sorted(self.prices))
            warnings.warn(
                f"no price for model {self.model!r} (the prices name {named}): its calls cost $0", stacklevel=2
            )
        self.defaults = dict(defaults or {})
        self._sync_client: Any = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, AsyncGenerator[None, None]]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return redact(f"OpenAIChatModel(model={self.model!r}, base_url={self.base_url!r})")

    @property
    def price(self) -> Price | None:
        return price_for(self.prices, self.model)

    def _client_kwargs(self) -> dict[str, Any]:
        key = self._config.api_key.get_secret_value() if self._config.api_key else "unused"
        return {"api_key": key, "base_url": self.base_url, "timeout": self.timeout_s, "max_retries": 0}

    def _sync(self) -> Any:
        with self._lock:
            if self._sync_client is None:
                from openai import OpenAI

                self._sync_client = OpenAI(**self._client_kwargs())
            return self._sync_client

    def _aclient(self) -> Any:
        loop = asyncio.get_running_loop()  # httpx async pools belong to one event loop
        with self._lock:  # several threads may each run a loop
            _drop_closed_loops(self._async)
            held = self._async.get(loop)
            if held is None:
                from openai import AsyncOpenAI

                client = AsyncOpenAI(**self._client_kwargs())
                held = self._async[loop] = (client, _closed_with_loop(client))
            return held[0]

    def _request(self, messages: Sequence[Message], params: Mapping[str, Any]) -> dict[str, Any]:
        merged = {**self.defaults, **params}
        if merged.get("stop") is not None and isinstance(merged["stop"], str):
            merged["stop"] = [merged["stop"]]
        kwargs: dict[str, Any] = {"model": merged.pop("model", self.model), "messages": [dict(m) for m in messages]}
        extra = {k: merged.pop(k) for k in list(merged) if k not in _OPENAI_PARAMS}
        kwargs.update({k: v for k, v in merged.items() if v is not None})
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    def _completion(self, response: Any, started: float, attempts: int) -> Completion:
        try:
            choice = response.choices[0]
            text = choice.message.content or ""
        except (AttributeError, IndexError, TypeError):
            raise _Retryable("reply has no choices[0].message") from None
        u = getattr(response, "usage", None)
        usage = TokenUsage(
            prompt_tokens=int(getattr(u, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(u, "completion_tokens", 0) or 0),
            calls=1,
        )
        price = self.price
        return Completion(
            text=text,
            model=str(getattr(response, "model", None) or self.model),
            usage=usage,
            cost_usd=price.cost(usage) if price else 0.0,
            latency_s=time.perf_counter() - started,
            finish_reason=getattr(choice, "finish_reason", None),
            attempts=attempts,
        )

    def complete(self, messages: Sequence[Message], **params: Any) -> Completion:
        kwargs = self._request(messages, params)
        started = time.perf_counter()
        gate = _endpoint_gate(self.base_url, self.concurrency)
        for attempt in range(self.max_retries + 1):
            try:
                with gate:
                    response = self._sync().chat.completions.create(**kwargs)
                return self._completion(response, started, attempt + 1)
            except Exception as e:  # noqa: BLE001 - sorted into retry / give up below
                wait = self._after_failure(e, attempt)
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def acomplete(self, messages: Sequence[Message], **params: Any) -> Completion:
        kwargs = self._request(messages, params)
        started = time.perf_counter()
        gate = _async_gate(self.base_url, self.concurrency)
        for attempt in range(self.max_retries + 1):
            try:
                async with gate:
                    response = await self._aclient().chat.completions.create(**kwargs)
                return self._completion(response, started, attempt + 1)
            except Exception as e:  # noqa: BLE001 - sorted into retry / give up below
                wait = self._after_failure(e, attempt)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _after_failure(self, e: Exception, attempt: int) -> float:
        """The wait before the next attempt, or raise the final, key-free error."""
        retryable, status, headers, what = _classify(e)
        if retryable and attempt < self.max_retries:
            return backoff_s(attempt, self.backoff_base_s, self.backoff_cap_s, retry_after_s(headers))
        where = self.base_url or "api.openai.com"
        if status in (401, 403):
            raise LLMConfigError(
                self._scrub(f"{where} refused the API key (HTTP {status}); check --api-key-env / {self._key_hint()}")
            ) from None
        if status is None and isinstance(e, _connection_errors()) and not _is_timeout(e):
            raise LLMConfigError(
                self._scrub(f"cannot reach the LLM endpoint {where} ({what}); check --base-url / AGENTROUTE_BASE_URL")
            ) from None
        tries = f" after {attempt + 1} attempts" if attempt else ""
        raise LLMError(self._scrub(f"{self.model} at {where}: {what}{tries}")) from None

    def _key_hint(self) -> str:
        src = self._config.key_source
        return src if src not in ("none", "argument") else "OPENAI_API_KEY"

    def _scrub(self, text: str) -> str:
        text = " ".join(text.split())
        key = self._config.api_key.get_secret_value() if self._config.api_key else ""
        return redact(text.replace(key, "***") if len(key) >= 4 else text)

    def check(self) -> None:
        """Fail fast (``LLMConfigError``) when the endpoint is unreachable or refuses the key.

        Uses ``GET /models``; a server without that route (404) still counts as reachable.
        """
        try:
            self._sync().models.list()
        except Exception as e:  # noqa: BLE001
            status = getattr(e, "status_code", None)
            if status not in (401, 403) and not isinstance(e, _connection_errors()):
                return
            self._after_failure(e, self.max_retries)

    def close(self) -> None:
        """Close the synchronous client; the next call opens a new one.

        Async clients belong to their event loop: ``aclose`` on that loop closes one, and the loop's own
        shutdown (``asyncio.run``'s end, which finalises async generators) closes one left open."""
        with self._lock:
            client, self._sync_client = self._sync_client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the current event loop's async client."""
        with self._lock:
            held = self._async.pop(asyncio.get_running_loop(), None)
        if held is not None:
            await held[1].aclose()  # its ``finally`` closes the client


class _Retryable(Exception):
    """A reply that parsed but is unusable (e.g. no choices): retried like a 5xx."""


def _connection_errors() -> tuple[type[BaseException], ...]:
    import openai

    return (openai.APIConnectionError,)


def _is_timeout(e: Exception) -> bool:
    import openai

    return isinstance(e, openai.APITimeoutError)


def _classify(e: Exception) -> tuple[bool, int | None, Mapping[str, str] | None, str]:
    """(retryable, HTTP status, response headers, one-line description) of a failed call."""
    import openai

    if isinstance(e, openai.APITimeoutError):
        return True, None, None, "request timed out"
    if isinstance(e, openai.APIConnectionError):
        cause = e.__cause__ or e.__context__
        return True, None, None, f"connection error: {cause or e}"
    if isinstance(e, openai.APIStatusError):
        status = e.status_code
        retry = status == 429 or status >= 500 or status == 408
        return retry, status, dict(e.response.headers), f"HTTP {status}: {_short(_status_message(e))}"
    if isinstance(e, (openai.APIResponseValidationError, json.JSONDecodeError, _Retryable)):
        return True, None, None, f"malformed reply: {_short(str(e))}"
    if isinstance(e, openai.APIError):
        return True, None, None, f"malformed reply: {_short(str(e))}"
    return False, None, None, f"{type(e).__name__}: {_short(str(e))}"


def _status_message(e: Any) -> str:
    """The server's own error message when the body has one (``{"error": {"message": ...}}``)."""
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        inner = error if isinstance(error, dict) else body
        if isinstance(inner.get("message"), str):
            return inner["message"]
    return str(getattr(e, "message", e))


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Per-endpoint gates. Thread gates are shared process-wide; asyncio gates belong to one event loop.
_THREAD_GATES: dict[tuple[str | None, int], threading.BoundedSemaphore] = {}
_LOOP_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str | None, int], asyncio.Semaphore]]
_LOOP_GATES = weakref.WeakKeyDictionary()
_GATES_LOCK = threading.Lock()


def _closed_with_loop(client: Any) -> AsyncGenerator[None, None]:
    """An async generator, started on the running loop, whose only job is to close ``client`` when the loop
    shuts down: ``asyncio.run`` (and every loop runner that finalises async generators) closes it, so a
    client made for a loop never outlives it with its connections open."""

    async def closer() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await client.close()

    gen = closer()
    with contextlib.suppress(StopIteration):  # run it to its ``yield`` now: that registers it with the loop
        gen.asend(None).send(None)
    return gen


def _endpoint_gate(base_url: str | None, limit: int) -> threading.BoundedSemaphore:
    with _GATES_LOCK:
        return _THREAD_GATES.setdefault((base_url, limit), threading.BoundedSemaphore(limit))


def _async_gate(base_url: str | None, limit: int) -> asyncio.Semaphore:
    with _GATES_LOCK:
        _drop_closed_loops(_LOOP_GATES)
        gates = _LOOP_GATES.setdefault(asyncio.get_running_loop(), {})
        return gates.setdefault((base_url, limit), asyncio.Semaphore(limit))


def _drop_closed_loops(by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]) -> None:
    """Forget what belonged to event loops that have ended.

    Why not rely on the weak keys: a client's open connections refer to their loop, so an entry keeps its
    own key alive and a program that runs ``asyncio.run`` per call would pile up one client per call."""
    for loop in [loop for loop in by_loop if loop.is_closed()]:
        del by_loop[loop]


# ------------------------------------------------------------------------------------- helpers for scripts


def cut_at_stop(text: str, stop: str | Sequence[str] | None) -> tuple[str, bool]:
    """The text up to (not including) the first stop sequence, and whether one was found."""
    if not stop:
        return text, False
    stops = [stop] if isinstance(stop, str) else list(stop)
    hits = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return (text[: min(hits)], True) if hits else (text, False)


def count_tokens(text: str) -> int:
    """A crude token count (words) for scripted replies: enough to test usage and cost accounting."""
    return len(text.split())


class LLMSettings:
    """What the CLI's ``--base-url``, ``--llm-model``, ``--api-key-env`` and ``--prices`` say (unset: the
    environment). ``chat_model(name)`` builds one shared ``OpenAIChatModel`` per model name."""

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key_env: str | None = None,
        prices: Mapping[str, Any] | str | Path | None = None,
        env: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        env = os.environ if env is None else env
        self.base_url, self.model, self.api_key_env, self.env = base_url, model, api_key_env, env
        if prices is None and env.get("AGENTROUTE_PRICES"):
            prices = env["AGENTROUTE_PRICES"]
        self.prices = as_prices(prices)
        self.options = options
        self._models: dict[str | None, OpenAIChatModel] = {}

    def __repr__(self) -> str:
        return redact(
            f"LLMSettings(base_url={self.base_url!r}, model={self.model!r}, api_key_env={self.api_key_env!r})"
        )

    def chat_model(self, model: str | None = None) -> OpenAIChatModel:
        """The model ``model`` (default: ``--llm-model`` / ``AGENTROUTE_LLM_MODEL``) at the configured endpoint."""
        name = model or self.model
        if name not in self._models:
            self._models[name] = OpenAIChatModel(
                name, self.base_url, api_key_env=self.api_key_env, prices=self.prices, env=self.env, **self.options
            )
        return self._models[name]

    @property
    def models(self) -> list[OpenAIChatModel]:
        """The models built so far."""
        return list(self._models.values())


@runtime_checkable
class NeedsLLM(Protocol):
    """A part (agent, router, aggregator) that calls a chat model: ``connect`` binds it to an endpoint
    (a model object given at construction is kept) and returns the model it will call. ``needs_llm``
    declares it (True), so a part that merely has a ``connect`` method of its own is left alone."""

    needs_llm: bool

    def connect(self, settings: LLMSettings | None = None) -> ChatModel: ...


def needs_llm(part: object) -> TypeGuard[NeedsLLM]:
    """Whether a part declares that it calls a chat model (``NeedsLLM`` with ``needs_llm = True``)."""
    return isinstance(part, NeedsLLM) and part.needs_llm is True


class UsesChatModel:
    """Mixin for a part that calls an LLM (agent, router, aggregator): its chat model is given as an object,
    a model name or nothing. A name (or nothing: the default model) is bound to an endpoint by
    ``connect(settings)`` or on first use, so building a part never opens a connection."""

    needs_llm = True
    _chat: ChatModel | None = None
    _chat_built: bool = False  # the model was built here from a name, so closing it is ours to do
    _model_name: str | None = None
    _settings: LLMSettings | None = None

    def _use_model(self, model: ChatModel | str | None, settings: LLMSettings | None = None) -> None:
        self._chat = None if model is None or isinstance(model, str) else model
        self._model_name = model if isinstance(model, str) else getattr(model, "model", None)
        self._settings = settings

    @property
    def connected(self) -> bool:
        return self._chat is not None

    def connect(self, settings: LLMSettings | None = None) -> ChatModel:
        """Bind a model given by name (or the default model) to an endpoint; a given object is kept."""
        if self._chat is None:
            self._chat = (settings or self._settings or LLMSettings()).chat_model(self._model_name)
            self._chat_built = True
        return self._chat

    @property
    def chat(self) -> ChatModel:
        return self._chat if self._chat is not None else self.connect()


async def aclose_chat_models(parts: Sequence[object]) -> None:
    """Close the chat clients the parts' models opened on the running event loop.

    Each distinct connected model is closed once; a model that has no ``aclose`` is left alone."""
    models: list[Any] = []
    for part in parts:
        model = part.chat if isinstance(part, UsesChatModel) and part.connected else None
        if model is not None and hasattr(model, "aclose") and all(model is not m for m in models):
            models.append(model)
    for model in models:
        await model.aclose()


def close_built_chat_models(parts: Sequence[object]) -> None:
    """Close the synchronous clients of the models the parts built from a name (a model object you gave
    stays yours); a closed model opens a new client if it is called again."""
    for part in parts:
        model = part._chat if isinstance(part, UsesChatModel) and part._chat_built else None
        if isinstance(model, OpenAIChatModel):  # what ``LLMSettings`` builds
            model.close()


def run_closing_chat_models(
    coro: Coroutine[Any, Any, T], parts: Sequence[object], executor: LentPool | None = None
) -> T:
    """``asyncio.run(coro)``, closing the clients the parts' chat models opened for that loop before it
    ends: an ``OpenAIChatModel`` keeps one async client per loop, and a synchronous caller makes a loop
    per call. Called where an event loop already runs (a notebook, an async handler calling a synchronous
    API), the new loop runs on a helper thread, with the caller's context, and the caller waits for it."""

    async def run() -> T:
        try:
            return await coro
        finally:
            await aclose_chat_models(parts)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_on_new_loop(run(), executor)
    context = contextvars.copy_context()
    with ThreadPoolExecutor(1, thread_name_prefix="agentroute-sync") as pool:
        return pool.submit(context.run, run_on_new_loop, run(), executor).result()


def run_on_new_loop(coro: Coroutine[Any, Any, T], executor: LentPool | None = None) -> T:
    """``asyncio.run``, leaving the thread's current event loop as it found it: ``asyncio.run`` leaves none
    set afterwards (and LangGraph sets the loop it runs on as current), which breaks a host that set one
    and calls ``get_event_loop()``. Tasks left over are cancelled, async generators finalised (which
    closes the chat clients opened on this loop), then the loop is closed. ``executor``: worker threads
    lent to the loop as its default executor (kept when it closes)."""
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    host_loop = getattr(local, "_loop", None)  # the default policy keeps it there; else None
    loop = asyncio.new_event_loop()
    if executor is not None:
        loop.set_default_executor(executor)
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            _finish_leftovers(loop, lent=executor is not None)
        finally:
            asyncio.set_event_loop(host_loop)  # last: LangGraph sets its loop again while it runs


def _finish_leftovers(loop: asyncio.AbstractEventLoop, lent: bool = False) -> None:
    """Cancel the tasks left on ``loop`` and close it; tasks that ignore the cancellation must not hold the
    caller: they finish on a daemon thread, which closes the loop after them."""
    stuck: set[asyncio.Task[Any]] = set()
    left = asyncio.all_tasks(loop)
    for task in left:
        task.cancel()
    if left:
        _, stuck = loop.run_until_complete(asyncio.wait(left, timeout=_LEFTOVER_WAIT_S))
    if stuck:
        threading.Thread(target=_close_loop, args=(loop, stuck, lent), name="agentroute-leftover", daemon=True).start()
    else:
        _close_loop(loop, stuck, lent)


_LEFTOVER_WAIT_S = 0.1  # cancelled tasks usually end at once


def _close_loop(loop: asyncio.AbstractEventLoop, stuck: set[asyncio.Task[Any]], lent: bool = False) -> None:
    """Let the tasks still running finish, finalise async generators (closing chat clients), stop the
    loop's own worker threads (not lent ones), close."""
    try:
        if stuck:
            loop.run_until_complete(asyncio.wait(stuck))
        loop.run_until_complete(loop.shutdown_asyncgens())
        if not lent:
            loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def connect_parts(parts: Sequence[object], settings: LLMSettings | None = None, check: bool = True) -> list[ChatModel]:
    """Connect every ``NeedsLLM`` part; with ``check``, fail fast (``LLMConfigError``) when an endpoint is
    unreachable or refuses the key. Returns the distinct models."""
    settings = settings or LLMSettings()
    models: list[ChatModel] = []
    for part in parts:
        if needs_llm(part):
            model = part.connect(settings)
            if all(model is not m for m in models):
                models.append(model)
    if check:
        checked: set[tuple[str | None, str]] = set()
        for model in models:
            if isinstance(model, OpenAIChatModel) and (model.base_url, model._config.key_source) not in checked:
                checked.add((model.base_url, model._config.key_source))
                model.check()
    return models


def make_chat_model(
    model: str | ChatModel | None = None,
    *,
    base_url: str | None = None,
    api_key_env: str | None = None,
    prices: Mapping[str, Any] | str | Path | None = None,
    **options: Any,
) -> ChatModel:
    """A ``ChatModel`` as given, or an ``OpenAIChatModel`` for a model name (endpoint from the environment)."""
    if model is not None and not isinstance(model, str):
        return model
    return LLMSettings(base_url, None, api_key_env, prices, **options).chat_model(model)
