"""``LLMAgent``: an agent that answers with a chat model and a prompting strategy.

Strategies (the AgentRouter setting of backbones × prompting strategies):
``direct`` (one call), ``cot`` (reason step by step), ``self-consistency`` (n sampled reasoning paths, the
``majority`` vote over their answers), ``react`` (other agents as tools, bounded steps) and ``reflect`` (draft,
critique, revise). Every call's tokens and cost are summed on the ``AgentResult``.

The chat model may be given as an object, or as a model name (or None: the configured default) that is
connected to an endpoint on first use or by ``connect`` (what the CLI's ``--base-url`` does).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from agentroute.agents.base import Agent
from agentroute.aggregate import MajorityVote
from agentroute.answers import extract_answer
from agentroute.llm import ChatModel, Completion, UsesChatModel
from agentroute.types import AgentResult, Query, RoutingDecision, TokenUsage

STRATEGIES = ("direct", "cot", "self-consistency", "react", "reflect")

SHORT_RULE = (
    "Give the final answer on the last line as 'Answer: <answer>', where <answer> is as short as possible: "
    "a few words, a number, or the letter of the chosen option. No explanation after it."
)
LONG_RULE = "End with the final answer on its own line as 'Answer: <answer>'."

_SYSTEM = {
    "direct": "You answer questions accurately and concisely.",
    "cot": "You answer questions accurately. Think step by step before answering.",
    "react": (
        "You answer questions by reasoning and, when useful, calling tools. To call a tool write\n"
        "Thought: <why>\nAction: <tool name>: <input for the tool>\n"
        "and stop; the tool's reply comes back as 'Observation: ...'. When you know the answer write\n"
        "Thought: <why>\nAnswer: <answer>"
    ),
}
COT_HINT = "\n\nLet's think step by step."
_ACTION = re.compile(r"Action\s*:\s*([^\n:]+?)\s*:\s*(.+)", re.IGNORECASE)


def question_text(query: Query) -> str:
    """The question with its context passages, as the user message."""
    if not query.context:
        return f"Question: {query.text}"
    passages = "\n".join(f"- {c}" for c in query.context)
    return f"Context:\n{passages}\n\nQuestion: {query.text}"


class LLMAgent(Agent, UsesChatModel):
    """An agent backed by a chat model and a prompting strategy.

    ``short_answer`` asks for (and extracts) a short answer, for QA benchmarks scored by EM/F1.
    ``samples``: reasoning paths for ``self-consistency``; ``max_steps``: tool calls for ``react``.
    """

    def __init__(
        self,
        name: str,
        model: ChatModel | str | None = None,
        strategy: str = "direct",
        description: str = "",
        skills: Sequence[str] = (),
        *,
        tools: Sequence[Agent] = (),
        samples: int = 5,
        max_steps: int = 4,
        short_answer: bool = True,
        temperature: float | None = None,
        max_tokens: int | None = None,
        cost_per_call: float | None = None,
    ) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"agent {name!r}: unknown strategy {strategy!r}: expected one of {', '.join(STRATEGIES)}")
        model_name = model if isinstance(model, str) else getattr(model, "model", None)
        if not description:
            description = f"{strategy} prompting" + (f" with {model_name}" if model_name else "")
        super().__init__(name, description, skills, cost_per_call, model_name, strategy)
        self._use_model(model)
        self.strategy = strategy
        self.tools = list(tools)
        self.samples, self.max_steps = max(1, samples), max(1, max_steps)
        self.short_answer = short_answer
        self.params: dict[str, Any] = {}
        if temperature is not None:
            self.params["temperature"] = temperature
        if max_tokens is not None:
            self.params["max_tokens"] = max_tokens

    # -- running -----------------------------------------------------------------------------------

    async def arun(self, query: Query) -> AgentResult:
        run = _Run(self, query)
        steps = {
            "direct": run.direct,
            "cot": run.cot,
            "self-consistency": run.self_consistency,
            "react": run.react,
            "reflect": run.reflect,
        }
        answer = await steps[self.strategy]()
        return AgentResult(agent=self.name, answer=answer, cost=run.cost, usage=run.usage)

    def run(self, query: Query) -> AgentResult:  # pragma: no cover - arun is the real entry point
        raise NotImplementedError("LLMAgent runs asynchronously; use invoke()/arun()")


class _Run:
    """One question's calls: the messages, the summed usage and cost, and each strategy's steps."""

    def __init__(self, agent: LLMAgent, query: Query) -> None:
        self.agent, self.query = agent, query
        self.rule = SHORT_RULE if agent.short_answer else LONG_RULE
        self.usage = TokenUsage()
        self.cost = 0.0

    async def call(self, messages: list[dict[str, str]], **params: Any) -> str:
        out: Completion = await self.agent.chat.acomplete(messages, **{**self.agent.params, **params})
        self.usage = self.usage + out.usage
        self.cost += out.cost_usd
        return out.text

    def answer(self, text: str) -> str:
        return extract_answer(text, self.query.text, short=self.agent.short_answer)

    def messages(self, kind: str, extra: str = "") -> list[dict[str, str]]:
        system = f"{_SYSTEM[kind]}\n{self.rule}"
        return [{"role": "system", "content": system}, {"role": "user", "content": question_text(self.query) + extra}]

    async def direct(self) -> str:
        return self.answer(await self.call(self.messages("direct")))

    async def cot(self) -> str:
        return self.answer(await self.call(self.messages("cot", COT_HINT)))

    async def self_consistency(self) -> str:
        """Sample several reasoning paths and return their majority answer: the vote the aggregators use, so
        normalised answers group, and a longer answer sides with a shorter one it begins or ends with
        (first sampled wins ties)."""
        temperature = self.agent.params.get("temperature", 0.7)
        messages = self.messages("cot", COT_HINT)
        texts = await asyncio.gather(
            *(self.call(messages, temperature=temperature, seed=i) for i in range(self.agent.samples))
        )
        answers = [self.answer(t) for t in texts]
        samples = [AgentResult(agent=f"sample {i}", answer=a) for i, a in enumerate(answers)]
        same = RoutingDecision(router="self-consistency", probs={}, selected=[r.agent for r in samples])
        voted = MajorityVote().aggregate(self.query, same, samples).text
        return voted or (answers[0] if answers else "")

    async def react(self) -> str:
        tools = {t.name: t for t in self.agent.tools if t.name != self.agent.name}
        listing = "\n".join(f"- {name}: {t.spec.description}" for name, t in tools.items()) or "(no tools)"
        messages = self.messages("react", f"\n\nTools:\n{listing}")
        for _ in range(self.agent.max_steps):
            text = await self.call(messages, stop=["Observation:"])
            action = _ACTION.search(text)
            if action is None:
                return self.answer(text)
            name, tool_input = action.group(1).strip(), action.group(2).strip()
            observation = await self.observe(tools, name, tool_input)
            messages += [
                {"role": "assistant", "content": text.strip()},
                {"role": "user", "content": f"Observation: {observation}"},
            ]
        messages.append({"role": "user", "content": f"No more tool calls. {self.rule}"})
        return self.answer(await self.call(messages))

    async def observe(self, tools: dict[str, Agent], name: str, tool_input: str) -> str:
        tool = tools.get(name) or next((t for n, t in tools.items() if n.lower() == name.lower()), None)
        if tool is None:
            return f"unknown tool {name!r}; tools are: {', '.join(tools) or 'none'}"
        result = await tool.invoke(Query(id=f"{self.query.id}/{tool.name}", text=tool_input), timeout=None)
        if result.usage is not None:
            self.usage = self.usage + result.usage
        self.cost += result.cost
        return (result.answer or "") if result.ok else f"error: {result.error}"

    async def reflect(self) -> str:
        """Draft with reasoning, critique the draft, then revise it into the final answer."""
        question = question_text(self.query)
        draft = await self.call(self.messages("cot", COT_HINT))
        critique = await self.call(
            [
                {"role": "system", "content": "You check answers to questions critically and briefly."},
                {
                    "role": "user",
                    "content": f"{question}\n\nDraft answer:\n{draft}\n\n"
                    "List any mistakes in the draft (facts, reasoning, arithmetic, format). If it is right, say so.",
                },
            ]
        )
        revised = await self.call(
            [
                {"role": "system", "content": f"{_SYSTEM['direct']}\n{self.rule}"},
                {
                    "role": "user",
                    "content": f"{question}\n\nDraft answer:\n{draft}\n\nCritique:\n{critique}\n\n"
                    "Write the corrected final answer.",
                },
            ]
        )
        return self.answer(revised)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:/+@-]+", "-", text).strip("-") or "llm"


def llm_pool(
    backbones: Sequence[str | None] = (None,),
    strategies: Sequence[str] = STRATEGIES,
    **options: Any,
) -> list[LLMAgent]:
    """One ``LLMAgent`` per backbone × strategy, named ``<backbone>-<strategy>`` (just the strategy for the
    default backbone ``None``). ``react`` agents get the pool's other non-react agents as tools."""
    agents = [LLMAgent(_slug(f"{b}-{s}" if b else s), b, s, **options) for b in backbones for s in strategies]
    helpers = [a for a in agents if a.strategy != "react"]
    for a in agents:
        if a.strategy == "react":
            a.tools = [h for h in helpers if h.spec.model == a.spec.model] or list(helpers)
    return agents
