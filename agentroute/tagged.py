"""The XML-like tags LLM routers talk in: quoting untrusted text into a prompt, reading tags out of a reply.

Why a module of its own: both LLM routers (``reasoning``, ``multiround``) put text they do not control
(questions, agent descriptions, agents' replies) into prompts made of tags, and read tags back out of a
model's free text. Untrusted text must never be able to forge a tag, and a model's reply must be read
tolerantly (code fences, case, think blocks, unclosed last tags).
"""

from __future__ import annotations

import re

#: Every tag either router uses; untrusted text containing them is neutralised before it enters a prompt.
ROUTER_TAGS = (
    "agents",
    "agent",
    "name",
    "description",
    "id",
    "reason",
    "evidence",
    "think",
    "search",
    "information",
    "answer",
    "question",
)
_TAG_LIKE = re.compile(r"<(\s*/?\s*(?:" + "|".join(ROUTER_TAGS) + r")\b)", re.IGNORECASE)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.IGNORECASE | re.DOTALL)
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*$", re.MULTILINE)


def quote(text: str | None) -> str:
    """Untrusted text made safe to embed between router tags: ``<ID>`` becomes ``&lt;ID>`` (so a question
    or an agent's reply can never open or close a tag the router reads), everything else is kept."""
    return _TAG_LIKE.sub(r"&lt;\1", text or "")


def unfence(text: str) -> str:
    """The reply without Markdown code-fence lines (models like to wrap XML in ```xml … ```)."""
    return _FENCE.sub("", text)


def drop_think(text: str) -> str:
    """The reply without ``<think>…</think>`` blocks (a reasoning model's scratch work may mention tags it
    then decides against; an unclosed think block runs to the end)."""
    return _THINK.sub("", text)


def tag_values(text: str, tag: str) -> list[str]:
    """The contents of every closed ``<tag>…</tag>`` (case-insensitive, across lines), stripped."""
    pattern = re.compile(rf"<\s*{tag}\s*>(.*?)<\s*/\s*{tag}\s*>", re.IGNORECASE | re.DOTALL)
    return [m.strip() for m in pattern.findall(text)]


def open_tag(text: str, tag: str) -> re.Match[str] | None:
    """The first opening ``<tag>`` in the text (closed or not)."""
    return re.search(rf"<\s*{tag}\s*>", text, re.IGNORECASE)


def close_tag(text: str, tag: str, start: int = 0) -> re.Match[str] | None:
    """The first closing ``</tag>`` at or after ``start``."""
    return re.compile(rf"<\s*/\s*{tag}\s*>", re.IGNORECASE).search(text, start)
