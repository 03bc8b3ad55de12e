"""Secrets in text: what an output must never show.

Why one place: an agent's exception, an LLM provider's error body or a URL can quote a key, and such text
reaches ``AgentResult.error``, CLI lines, routing logs, stores and the server's replies. Each of those
passes it through ``redact`` here, which blanks out the values of environment variables whose names look
secret (``*_API_KEY``, ``*TOKEN``, ``*SECRET*``, ``*PASS*``, ``*_AUTH``), anything shaped like an API key,
a bearer or basic credential, ``password=``/``api_key=`` parameters, and the credentials in a URL
(``https://user:pass@host`` becomes ``https://***@host``, also when the password holds ``/``, ``?`` or
``#`` unencoded).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping

_SECRET_NAMES = ("KEY", "TOKEN", "SECRET", "PASS")
_SECRET_NAME_PARTS = ("AUTH", "CREDENTIALS")
#: an OpenAI-style key, a bearer token (8+ token characters with a digit, so prose is left alone), or a
#: basic credential (``Authorization: Basic <base64>``)
_SHAPED = re.compile(
    r"\b(sk-[A-Za-z0-9_-]{8,}|[Bb]earer\s+(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}|Basic\s+[A-Za-z0-9+/]{8,}=*)"
)
#: ``password=...``, ``api_key=...`` in a query string, a DSN or a message (the name kept, the value blanked)
_ASSIGNED = re.compile(
    r"(?i)\b((?:password|passwd|pwd|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)\s*=\s*)"
    r"([^\s&;,'\"]+)"
)
#: ``scheme://userinfo@``: the authority's userinfo, or ``user:password@`` whose password holds ``/?#``
#: unencoded (up to the last ``@`` before a space or quote), but not ``host:port/...?mail=a@b``
_URL_CREDENTIALS = re.compile(
    r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^/\s?#]*|[^/\s?#@:'\"<>]+:(?!\d+(?:[/?#\s]|$))[^\s'\"<>]*)@"
)


def secret_values(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Values of variables whose names look secret (read now, from ``env`` or the process environment)."""
    env = os.environ if env is None else env
    return tuple(v for k, v in env.items() if _secret_name(k) and len(v) >= 6)


def _secret_name(name: str) -> bool:
    upper = name.upper()
    return any(s in upper for s in _SECRET_NAMES) or any(p in upper.split("_") for p in _SECRET_NAME_PARTS)


def redactor(secrets: Iterable[str]) -> Callable[[str | None], str | None]:
    """A function that blanks the given secrets, key-shaped text and URL credentials out of a text."""
    known = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(text: str | None) -> str | None:
        if not text:
            return text
        for s in known:
            text = text.replace(s, "***")
        text = _ASSIGNED.sub(r"\1***", _SHAPED.sub("***", text))
        return _URL_CREDENTIALS.sub(r"\1***@", text)

    return redact


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` without the environment's secrets, key-shaped text or URL credentials."""
    return redactor(secret_values(env))(text) or text
