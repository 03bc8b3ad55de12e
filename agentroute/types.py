"""Models shared by every layer: agents, queries, results, routing decisions, run records, query graphs.

Everything that crosses a module boundary is one of these, so the layers stay independent.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AGENT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/+@-]{0,127}$")

NodeLabel = Literal["Query", "Entity", "Agent"]
RelType = Literal["MENTIONS", "RELATED", "COVERS", "SIMILAR", "PERFORMED"]

#: Fixed endpoint labels of every relationship type (stores never take labels from user text).
ENDPOINTS: dict[str, tuple[str, str]] = {
    "MENTIONS": ("Query", "Entity"),
    "RELATED": ("Entity", "Entity"),
    "COVERS": ("Agent", "Entity"),
    "SIMILAR": ("Query", "Query"),
    "PERFORMED": ("Query", "Agent"),
}
NODE_LABELS: tuple[str, ...] = ("Query", "Entity", "Agent")


class AgentSpec(BaseModel):
    """What a router knows about an agent: who it is, what it is good at, what a call costs."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    skills: list[str] = Field(default_factory=list)
    cost_per_call: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    model: str | None = None
    strategy: str | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not AGENT_NAME_RE.match(v):
            raise ValueError(
                f"invalid agent name {v!r}: expected 1-128 characters of letters, digits and _.:/+@-, "
                "starting with a letter or digit"
            )
        return v

    def profile_text(self) -> str:
        """The text an embedder sees for this agent (so unseen agents can still be scored)."""
        skills = ", ".join(self.skills)
        return f"{self.name}. {self.description} Skills: {skills}".strip()


class Query(BaseModel):
    """A question. ``gold`` is for evaluation only and never reaches a router. Without an ``id``, the
    question gets one from its text and context (``q-`` and a hash), as ``AgentRoute.ask("...")`` gives it:
    the same question asked again is the same run, one asked over other context is another."""

    id: str = ""
    text: str
    context: list[str] = Field(default_factory=list)
    gold: list[str] | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _id_from_text(self) -> Query:
        if not self.id:
            said = "\x00".join([self.text, *self.context])  # the text alone when there is no context
            self.id = "q-" + hashlib.sha1(said.encode()).hexdigest()[:12]
        return self

    def for_routing(self) -> Query:
        """The same query without gold answers (what routers and agents may see)."""
        return self.model_copy(update={"gold": None})


class TokenUsage(BaseModel):
    """Tokens spent by LLM calls (summed over every call an agent or router made)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            calls=self.calls + other.calls,
        )


class AgentResult(BaseModel):
    """One agent's reply. ``usage`` is set by agents that call LLMs (``cost`` is then their USD cost)."""

    agent: str
    answer: str | None = None
    score: float | None = None
    cost: float = 0.0
    latency_s: float = 0.0
    error: str | None = None
    usage: TokenUsage | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.answer is not None


class RoutingDecision(BaseModel):
    """Which agents to call for one question, and how much the router trusts each.

    ``early_stop``: call ``selected`` in order, in the fewest waves that could settle the answer, and stop
    as soon as the aggregator's answer can no longer change (see ``agentroute/waves.py``); the answer is
    the one calling every selected agent would give (at most a longer form of it), usually for fewer calls.

    ``fallback``: when every agent called has failed (raised, timed out, gave no answer), how many more
    agents may be called, one at a time, the most probable first (``waves.py``); None leaves it to the
    pipeline (``AgentRoute(fallback=2)``), 0 (a decision an approval reviewer accepted or edited) allows none.

    ``answer``: set by a router that answers itself (an out-of-scope notice, a multi-round episode's final
    answer); the pipeline then returns it instead of aggregating. ``usage`` / ``cost``: the router's own
    LLM tokens and USD. ``trajectory``: a multi-round router's steps (think, search, information, answer).
    """

    router: str
    probs: dict[str, float]
    selected: list[str]
    rationale: str | None = None
    early_stop: bool = False
    fallback: int | None = None
    #: Agents routed (partly) by their description because no history near this question covers them.
    cold_start: list[str] = Field(default_factory=list)
    answer: str | None = None
    usage: TokenUsage | None = None
    cost: float = 0.0
    trajectory: list[dict[str, str]] | None = None
    #: Each agent's score on the question's similar past questions, set by an answer-aware aggregator's
    #: ``prepare`` (``agentroute/selection.py``); empty otherwise.
    history: dict[str, float] = Field(default_factory=dict)
    #: Each agent's estimated chance of answering this question right, from a router that estimates one
    #: (the GNN's task prior); the weighted vote then weighs answers by it (``aggregate.py``). Empty otherwise.
    reliability: dict[str, float] = Field(default_factory=dict)


class Answer(BaseModel):
    """The aggregated answer. ``usage`` / ``cost``: what the aggregator itself spent (e.g. a refining LLM).
    ``error`` is set (and ``text`` empty) when no agent gave an answer, so a question that failed says so
    explicitly instead of looking like an empty reply."""

    text: str
    decision: RoutingDecision
    results: list[AgentResult] = Field(default_factory=list)
    support: dict[str, float] = Field(default_factory=dict)
    usage: TokenUsage | None = None
    cost: float = 0.0
    error: str | None = None


class AgentRecord(BaseModel):
    """One agent's recorded outcome on one question (a routing-log cell / a PERFORMED edge)."""

    model_config = ConfigDict(extra="allow")

    score: float | None = None
    pred: str | None = None
    cost_usd: float | None = None
    latency_s: float | None = None
    steps: float | None = None
    tokens: int | None = None
    #: why the call failed (raised, timed out); ``profile`` scores such a call 0
    error: str | None = None


#: the ``dataset`` of questions recorded by ``agentroute serve``: where they came from, not a task
SERVED_DATASET = "served"


class RunRecord(BaseModel):
    """One question with every agent's outcome: a routing log's row (README, "Routing logs")."""

    model_config = ConfigDict(extra="allow")

    dataset: str | None = None
    qid: str
    split: str | None = None
    question: str
    gold: list[str] | None = None
    agents: dict[str, AgentRecord] = Field(default_factory=dict)

    def scores(self) -> dict[str, float]:
        """Agent -> score, for agents that have one."""
        return {a: r.score for a, r in self.agents.items() if r.score is not None}

    def costs(self) -> dict[str, float]:
        return {a: r.cost_usd for a, r in self.agents.items() if r.cost_usd is not None}


@dataclass
class PastQuery:
    """A similar past question in a query graph, with how each agent did on it (PERFORMED edges)."""

    id: str
    text: str
    similarity: float
    scores: dict[str, float] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)


@dataclass
class QueryGraph:
    """The heterogeneous graph of one question, as routers see it.

    Indexes in the edge lists refer to positions in ``entities`` / ``agents`` / ``similar``.
    Feature rows are aligned with those lists. No gold answer and no score of this question appear here.
    """

    query: Query
    query_vec: np.ndarray  # (dim,)
    entities: list[str]  # entity ids; the first ``n_mentioned`` are mentioned by the query
    entity_kinds: list[str]
    n_mentioned: int
    entity_vecs: np.ndarray  # (len(entities), dim)
    related: list[tuple[int, int, str]]  # entity i -> entity j, relation kind
    agents: list[AgentSpec]
    agent_vecs: np.ndarray  # (len(agents), dim)
    covers: list[tuple[int, int]]  # agent i covers entity j
    similar: list[PastQuery]
    past_vecs: np.ndarray  # (len(similar), dim)

    @property
    def agent_names(self) -> list[str]:
        return [a.name for a in self.agents]


@dataclass
class TrainExample:
    """A query graph with the outcomes a router learns from (never available at routing time)."""

    graph: QueryGraph
    scores: dict[str, float]
    costs: dict[str, float] = field(default_factory=dict)
    task: str | None = None  # the row's task (its log's ``dataset``): a training label, never routed on
