"""The refining aggregator ``refine`` (TCAR's Refining Agent): an LLM merges the called agents' answers.

It reads the question and each answer under a heading naming its agent, keeps each answer's strengths,
merges complementary parts, states conflicts explicitly, and outputs only the final answer. When every
agent failed it declines without calling the model; when every answer agrees (after normalisation) the
shared answer is returned as is, saving a call. If the model call fails, the probability-weighted vote
answers instead and the decision's ``rationale`` says so: an aggregator never fails the question.
``short_answer`` asks for a short final answer so QA benchmarks can score it with EM/F1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentroute.aggregate import WeightedVote
from agentroute.answers import extract_answer
from agentroute.llm import ChatModel, Completion, LLMSettings, UsesChatModel
from agentroute.normalize import normalize_answer
from agentroute.types import AgentResult, Answer, Query, RoutingDecision

DECLINE = "Sorry, I could not find an answer to this question: none of the agents I asked could answer it."

REFINE_SYSTEM = (
    "You are a refining agent. Several agents answered the user's question independently; each answer is "
    "shown under a heading naming its agent. Write one final answer: keep the strengths of each answer, "
    "integrate complementary parts, avoid repetition, and state explicitly where the answers conflict and "
    "which one you trust. If none of the answers is usable, politely say that you cannot answer. "
    "Output only the final answer, without mentioning the agents."
)
SHORT_RULE = (
    "The final answer must be short (a few words, a number, or the letter of the chosen option). Write it on "
    "the last line as 'Answer: <answer>'. When the answers conflict, pick the best-supported one."
)


def refine_prompt(query: Query, results: Sequence[AgentResult], short_answer: bool) -> list[dict[str, str]]:
    """The refining agent's messages: the question, then each answered agent's reply under its name."""
    parts = [f"Question: {query.text}"]
    parts += [f"### Answer from {r.agent}\n{str(r.answer).strip()}" for r in results]
    system = f"{REFINE_SYSTEM}\n{SHORT_RULE}" if short_answer else REFINE_SYSTEM
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


class RefiningAggregator(UsesChatModel):
    """``make_aggregator("refine", model=..., short_answer=True)``; ``model`` is a ``ChatModel``, a model
    name, or None (the default model of ``settings`` / the environment)."""

    name = "refine"

    def __init__(
        self,
        model: ChatModel | str | None = None,
        *,
        short_answer: bool = True,
        settings: LLMSettings | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self._use_model(model, settings)
        self.short_answer = short_answer
        self.params: dict[str, Any] = {"temperature": 0.0}
        if max_tokens is not None:
            self.params["max_tokens"] = max_tokens
        self._fallback = WeightedVote()

    def _plan(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer | None:
        """The answer when no model call is needed (all failed, or all agree), else None."""
        answered = [r for r in results if r.ok and normalize_answer(r.answer)]
        if not answered:
            return Answer(text=DECLINE, decision=decision, results=list(results), support={})
        if len({normalize_answer(r.answer) for r in answered}) == 1:
            return self._fallback.aggregate(query, decision, results)
        return None

    def _finish(
        self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult], out: Completion
    ) -> Answer:
        text = extract_answer(out.text, query.text, short=self.short_answer)
        if not self.short_answer and text.strip().lower().startswith("answer:"):
            text = text.split(":", 1)[1].strip()
        answered = [r for r in results if r.ok and normalize_answer(r.answer)]
        support = {str(r.answer): 1.0 / len(answered) for r in answered}
        return Answer(
            text=text, decision=decision, results=list(results), support=support, usage=out.usage, cost=out.cost_usd
        )

    def _failed(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult], e: Exception) -> Answer:
        note = f"refine failed ({' '.join(str(e).split())}); answered by weighted vote"
        rationale = f"{decision.rationale}; {note}" if decision.rationale else note
        return self._fallback.aggregate(query, decision.model_copy(update={"rationale": rationale}), results)

    def aggregate(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer:
        planned = self._plan(query, decision, results)
        if planned is not None:
            return planned
        answered = [r for r in results if r.ok and normalize_answer(r.answer)]
        try:
            out = self.chat.complete(refine_prompt(query, answered, self.short_answer), **self.params)
        except Exception as e:  # noqa: BLE001 - the refiner failing must not fail the question
            return self._failed(query, decision, results, e)
        return self._finish(query, decision, results, out)

    async def aaggregate(self, query: Query, decision: RoutingDecision, results: Sequence[AgentResult]) -> Answer:
        planned = self._plan(query, decision, results)
        if planned is not None:
            return planned
        answered = [r for r in results if r.ok and normalize_answer(r.answer)]
        try:
            out = await self.chat.acomplete(refine_prompt(query, answered, self.short_answer), **self.params)
        except Exception as e:  # noqa: BLE001
            return self._failed(query, decision, results, e)
        return self._finish(query, decision, results, out)
