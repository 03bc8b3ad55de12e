"""Agent descriptions: the sidecar file that gives a routing log's agents descriptions and prices, and
writing descriptions with an LLM from sample questions each agent answered well (TCAR's description step).

Why: the LLM routers choose agents by description alone, and a routing log names agents without saying
what they do. ``agentroute agents describe`` writes the sidecar; ``bench run --agent-info`` reads it.

The sidecar is a JSON object, agent name -> a description string or
``{"description": "...", "skills": [...], "cost_per_call": 0.002}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentroute.secrets import redact
from agentroute.textfile import read_text
from agentroute.types import AgentSpec, RunRecord

if TYPE_CHECKING:  # pragma: no cover
    from agentroute.llm import ChatModel

_FIELDS = {"description", "skills", "cost_per_call"}


def read_agent_info(path: str | Path) -> list[AgentSpec]:
    """The agents of a sidecar file; a bad file is one ``ValueError`` naming the file (and agent)."""
    path = Path(path)
    try:
        data = json.loads(read_text(path))  # another encoding is an error naming the file and line
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected an object of agent name -> {{"description": ..., "cost_per_call": ...}}')
    specs = []
    for name, entry in data.items():
        entry = {"description": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict) or set(entry) - _FIELDS:
            extra = sorted(set(entry) - _FIELDS) if isinstance(entry, dict) else type(entry).__name__
            raise ValueError(
                f"{path}: agent {name!r}: expected a description or an object of {sorted(_FIELDS)}, got {extra}"
            )
        try:
            specs.append(AgentSpec(name=name, **entry))
        except ValueError as e:
            first = e.errors()[0]["msg"] if hasattr(e, "errors") else str(e)  # pydantic: the first problem
            raise ValueError(f"{path}: agent {name!r}: {first}") from None
    return specs


def agent_info(specs: Sequence[AgentSpec]) -> dict[str, dict[str, Any]]:
    """Specs as sidecar data (what ``write`` puts in the file)."""
    out: dict[str, dict[str, Any]] = {}
    for s in specs:
        entry: dict[str, Any] = {"description": s.description}
        if s.skills:
            entry["skills"] = list(s.skills)
        if s.cost_per_call:
            entry["cost_per_call"] = s.cost_per_call
        out[s.name] = entry
    return out


def good_samples(records: Sequence[RunRecord], agent: str, limit: int = 8, threshold: float = 0.5) -> list[str]:
    """Up to ``limit`` questions ``agent`` answered well (score >= ``threshold``), the most telling first:
    those that fewest other agents also got right, then in log order."""
    scored = []
    for i, r in enumerate(records):
        scores = r.scores()
        if scores.get(agent, 0.0) >= threshold:
            others = sum(1 for a, s in scores.items() if a != agent and s >= threshold)
            scored.append((others, i, r.question))
    seen: set[str] = set()
    picked = []
    for _, _, q in sorted(scored):
        if q not in seen:
            seen.add(q)
            picked.append(q)
        if len(picked) >= limit:
            break
    return picked


def describe_messages(name: str, current: str, samples: Sequence[str]) -> list[dict[str, str]]:
    """The description prompt: what the agent answered well -> one ``<Description>`` for a router to read."""
    from agentroute.tagged import quote

    system = (
        "You write agent descriptions for a router that picks agents by their description alone. "
        "From the questions an agent answered correctly, say in one or two sentences which kinds of questions "
        "it handles well (topics, skills, answer formats). Do not list the questions. "
        "Reply as <Description>...</Description>."
    )
    lines = [f"Agent: {name}"]
    if current:
        lines.append(f"Its current description: {quote(current)}")
    lines.append("Questions it answered correctly:")
    lines += [f"- {quote(q)}" for q in samples]
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def parse_description(text: str) -> str:
    """The ``<Description>`` of a reply (tolerant: fences, think blocks, a missing tag -> the plain text)."""
    from agentroute.tagged import drop_think, tag_values, unfence

    body = unfence(drop_think(text or ""))
    found = tag_values(body, "description")
    return " ".join((found[0] if found else body).split())


def describe_agents(
    records: Sequence[RunRecord],
    agents: Sequence[AgentSpec],
    llm: ChatModel,
    *,
    samples: int = 8,
    threshold: float = 0.5,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[AgentSpec], dict[str, str]]:
    """New specs with LLM-written descriptions, and per agent a note when its description was kept as it
    was (no question answered well, or the model call failed). Never raises for one agent's failure."""
    say = progress or (lambda _msg: None)
    out: list[AgentSpec] = []
    kept: dict[str, str] = {}
    for spec in agents:
        questions = good_samples(records, spec.name, samples, threshold)
        if not questions:
            kept[spec.name] = "no sample question answered well"
            out.append(spec)
            continue
        try:
            text = parse_description(
                llm.complete(
                    describe_messages(spec.name, spec.description, questions), temperature=0.0, max_tokens=200
                ).text
            )
        except Exception as e:  # noqa: BLE001 - one agent's failure keeps its old description
            kept[spec.name] = redact(f"model call failed ({type(e).__name__}: {' '.join(str(e).split())})")
            out.append(spec)
            continue
        if not text:
            kept[spec.name] = "the model returned no description"
            out.append(spec)
            continue
        say(f"described {spec.name} from {len(questions)} questions")
        out.append(spec.model_copy(update={"description": text}))
    return out, kept


def agents_of(records: Sequence[RunRecord], given: Mapping[str, AgentSpec] | None = None) -> list[AgentSpec]:
    """The agents of a routing log in first-seen order, with the given specs where there are any."""
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r.agents))
    return [(given or {}).get(n) or AgentSpec(name=n) for n in names]
