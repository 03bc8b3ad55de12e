"""Secrets in text: what an output must never show.

Why one place: an agent's exception, an LLM provider's error body or a URL can quote a key, and such text
reaches ``AgentResult.error``, CLI lines, routing logs, stores and the server's replies. Each of those
passes it through ``redact`` here, which blanks out the values of environment variables whose names look
secret (see ``_secret_name``), anything shaped like an API key or a bearer token, a basic credential after
``Authorization``, ``password=``/``api_key=`` parameters and JSON fields, and the credentials in a URL
(``https://user:pass@host`` becomes ``https://***@host``, also when the password holds ``/``, ``?`` or
``#`` unencoded, unless it starts with digits and a ``/``, which reads as a port). Served answers pass
through it too, so the rules leave prose and code alone (``Basic Instinct``, ``password = input()``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping

_SECRET_NAMES = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD")
#: an OpenAI-style key, or a bearer token (8+ token characters with a digit, so prose is left alone)
_SHAPED = re.compile(r"\b(sk-[A-Za-z0-9_-]{8,}|[Bb]earer\s+(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,})")
#: a basic credential, where an ``Authorization`` header or field gives it (``Basic Instinct`` is a film)
_BASIC = re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?basic\s+)[A-Za-z0-9+/]{4,}=*")
#: ``password=...``, ``api_key=...`` in a query string or a DSN (the name kept, the value blanked); no spaces
#: around ``=`` and no call or subscript in the value, so code in an answer (``password = input()``) stays
_ASSIGNED = re.compile(
    r"(?i)\b((?:password|passwd|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)=)"
    r"(?![=\s]|[^\s&;,'\"]*[(\[])([^\s&;,'\"]+)"
)
#: the same names as JSON fields (an error body quoting a request): ``"password": "..."``
_JSON_FIELD = re.compile(
    r"(?i)(\"(?:password|passwd|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)\"\s*:\s*\")[^\"]*\""
)
#: ``scheme://user:password@`` whose password may hold ``/?#`` unencoded (up to the last ``@`` before a
#: space or quote; not ``host:port/...?mail=a@b``), else the authority's own userinfo
_URL_CREDENTIALS = re.compile(
    r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^/\s?#@:'\"<>\[\]]+:(?!\d+(?:[/?\s]|$))[^\s'\"<>]*|[^/\s?#]*)@"
)


def secret_values(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Values of variables whose names look secret (read now, from ``env`` or the process environment)."""
    env = os.environ if env is None else env
    return tuple(v for k, v in env.items() if _secret_name(k) and len(v) >= 6)


def _secret_name(name: str) -> bool:
    """``*KEY*``, ``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, a part ending in ``PASS`` (``PGPASS``, ``DB_PASS``),
    ``*_AUTH`` (``NEO4J_AUTH``) or a ``CREDENTIALS`` part; not ``SSH_AUTH_SOCK``, ``AUTH_PROVIDER`` or ``PWD``."""
    upper = name.upper()
    parts = upper.split("_")
    return (
        any(s in upper for s in _SECRET_NAMES)
        or any(p.endswith("PASS") for p in parts)
        or parts[-1] == "AUTH"
        or "CREDENTIALS" in parts
    )


def redactor(secrets: Iterable[str]) -> Callable[[str | None], str | None]:
    """A function that blanks the given secrets, key-shaped text and URL credentials out of a text."""
    known = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(text: str | None) -> str | None:
        if not text:
            return text
        for s in known:
            text = text.replace(s, "***")
        text = _BASIC.sub(r"\1***", _SHAPED.sub("***", text))
        text = _JSON_FIELD.sub(r'\1***"', _ASSIGNED.sub(r"\1***", text))
        return _URL_CREDENTIALS.sub(r"\1***@", text)

    return redact


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` without the environment's secrets, key-shaped text or URL credentials."""
    return redactor(secret_values(env))(text) or text


#: a known secret at least this long is blanked out of answers too; a shorter one may be a word an answer
#: holds by chance ("secret", a short password), which only errors and rationales lose
ANSWER_SECRET_MIN = 12


def answer_redactor(secrets: Iterable[str], always: Iterable[str] = ()) -> Callable[[str | None], str | None]:
    """A redactor for answers: key-shaped text, URL credentials, ``always`` (e.g. the server's own API key)
    and the known secrets of at least ``ANSWER_SECRET_MIN`` characters."""
    return redactor([*(s for s in secrets if len(s) >= ANSWER_SECRET_MIN), *always])
