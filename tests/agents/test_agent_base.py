"""Defining agents: the decorator, subclasses, and how ``invoke`` turns any outcome into an AgentResult."""

from __future__ import annotations

import asyncio

import pytest

from agentroute.agents import Agent, AgentDefinitionError, FunctionAgent, agent
from agentroute.types import AgentResult, Query

Q = Query(id="q1", text="What is up?", gold=["secret gold"])


def test_decorator_without_arguments_uses_function_name_and_docstring() -> None:
    @agent
    def shout_back(query: Query) -> str:
        """Repeats the question loudly."""
        return query.text.upper()

    assert isinstance(shout_back, FunctionAgent)
    assert shout_back.name == "shout-back"
    assert shout_back.spec.description == "Repeats the question loudly."
    assert shout_back.run(Q) == "WHAT IS UP?"


def test_decorator_with_arguments_sets_the_spec() -> None:
    @agent(name="geo", description="Capitals", skills=["maps", "capitals"], cost_per_call=0.25, model="m1")
    def geo(query: Query) -> str:
        return "Paris"

    assert (geo.name, geo.spec.description, geo.spec.skills) == ("geo", "Capitals", ["maps", "capitals"])
    assert (geo.spec.cost_per_call, geo.spec.model) == (0.25, "m1")


async def test_async_function_agent_is_awaited() -> None:
    @agent(name="slow-echo")
    async def slow_echo(query: Query) -> str:
        await asyncio.sleep(0)
        return f"echo: {query.text}"

    result = await slow_echo.invoke(Q)
    assert result.ok and result.answer == "echo: What is up?" and result.agent == "slow-echo"
    assert result.latency_s >= 0


class Counter(Agent):
    """A stateful sync agent."""

    def __init__(self) -> None:
        super().__init__("counter", "Counts its calls", cost_per_call=0.5)
        self.calls = 0

    def run(self, query: Query) -> str:
        self.calls += 1
        return str(self.calls)


class AsyncWords(Agent):
    async def arun(self, query: Query) -> AgentResult:
        return AgentResult(agent="someone-else", answer=str(len(query.text.split())), cost=0.1)


async def test_agent_subclasses_sync_and_async() -> None:
    counter = Counter()
    assert [(await counter.invoke(Q)).answer for _ in range(3)] == ["1", "2", "3"]
    words = await AsyncWords("words").invoke(Q)
    assert words.answer == "3"
    assert words.agent == "words"  # the result is attributed to the agent that produced it
    assert words.cost == 0.1  # an explicit cost is kept


async def test_agent_subclass_without_run_reports_an_error() -> None:
    result = await Agent("empty").invoke(Q)
    assert not result.ok and "NotImplementedError" in (result.error or "")


@pytest.mark.parametrize(
    ("returned", "answer", "error"),
    [("Paris", "Paris", None), (42, "42", None), (None, None, "no answer")],
)
async def test_invoke_wraps_plain_return_values(returned: object, answer: str | None, error: str | None) -> None:
    bot = FunctionAgent(lambda q: returned, name="bot")
    result = await bot.invoke(Q)
    assert result.answer == answer
    assert (result.error is None) if error is None else (error in (result.error or ""))


async def test_invoke_rejects_other_return_types_as_an_error() -> None:
    result = await FunctionAgent(lambda q: ["a", "list"], name="lister").invoke(Q)
    assert not result.ok and "list" in (result.error or "")


async def test_exceptions_become_errors_not_failures() -> None:
    def broken(query: Query) -> str:
        raise RuntimeError("backend down")

    result = await FunctionAgent(broken, name="broken").invoke(Q)
    assert result.error == "RuntimeError: backend down"
    assert result.answer is None and not result.ok


async def test_timeouts_become_errors() -> None:
    @agent(name="sleepy")
    async def sleepy(query: Query) -> str:
        await asyncio.sleep(5)
        return "late"

    result = await sleepy.invoke(Q, timeout=0.05)
    assert result.error is not None and "timeout" in result.error
    assert result.latency_s < 2


async def test_agents_never_see_the_gold_answer() -> None:
    seen: list[Query] = []

    @agent(name="spy")
    def spy(query: Query) -> str:
        seen.append(query)
        return "x"

    await spy.invoke(Q)
    assert seen[0].gold is None and seen[0].text == Q.text


async def test_cost_per_call_fills_the_cost_unless_the_agent_reports_one() -> None:
    flat = FunctionAgent(lambda q: "a", name="flat", cost_per_call=0.003)
    metered = FunctionAgent(lambda q: AgentResult(agent="metered", answer="b", cost=0.02), name="metered",
                            cost_per_call=0.003)  # fmt: skip
    failing = FunctionAgent(lambda q: 1 / 0, name="failing", cost_per_call=0.003)
    assert (await flat.invoke(Q)).cost == 0.003
    assert (await metered.invoke(Q)).cost == 0.02
    assert (await failing.invoke(Q)).cost == 0.003


@pytest.mark.parametrize("bad", ["has space", "-leading-dash", "x" * 200, "émoji🙂", "semi;colon"])
def test_bad_names_raise_naming_the_agent(bad: str) -> None:
    with pytest.raises(AgentDefinitionError) as info:
        agent(name=bad)(lambda q: "x")
    assert repr(bad) in str(info.value)


@pytest.mark.parametrize("bad", ["two words", ""])
def test_bad_name_of_an_agent_object_raises_too(bad: str) -> None:
    with pytest.raises(AgentDefinitionError) as info:
        Agent(bad)
    assert f"agent {bad!r}" in str(info.value)


def test_wrong_signatures_raise_naming_the_agent() -> None:
    def two_args(query: Query, extra: int) -> str:
        return "x"

    def no_args() -> str:
        return "x"

    for fn in (two_args, no_args):
        with pytest.raises(AgentDefinitionError) as info:
            agent(name="wrong")(fn)
        assert "'wrong'" in str(info.value) and fn.__name__ in str(info.value)


def test_optional_extra_parameters_are_allowed() -> None:
    def with_default(query: Query, style: str = "short") -> str:
        return style

    assert agent(name="ok")(with_default).run(Q) == "short"


def test_non_callable_is_rejected() -> None:
    with pytest.raises(AgentDefinitionError, match="'notfn'"):
        FunctionAgent("not a function", name="notfn")  # type: ignore[arg-type]


def test_a_skill_given_as_a_string_is_one_skill_and_costs_must_be_real() -> None:
    @agent(name="mathy", skills="math")
    def mathy(q: Query) -> str:
        return "1"

    assert mathy.spec.skills == ["math"]
    for bad, why in ((-1.0, "cost_per_call: Input should be greater than or equal to 0"), (float("nan"), "finite")):
        with pytest.raises(AgentDefinitionError, match=why):
            agent(name="costly", cost_per_call=bad)(lambda q: "1")


def test_a_failing_agents_traceback_is_logged_at_debug_level_redacted(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio
    import logging

    @agent(name="crashes")
    def crashes(q: Query) -> str:
        raise ValueError("bad key sk-abcdefghijklmnop")

    with caplog.at_level(logging.DEBUG, logger="agentroute.agents"):
        result = asyncio.run(crashes.invoke(Query(id="q", text="t")))
    assert result.error == "ValueError: bad key ***"
    logged = caplog.text
    assert "agent crashes failed" in logged and "test_agent_base.py" in logged and ", in crashes" in logged
    assert "sk-abcdefghijklmnop" not in logged


def test_a_plain_function_in_a_pool_is_an_error_that_says_how_to_make_it_an_agent() -> None:
    from agentroute import AgentDefinitionError, AgentPool

    def lookup(q):  # type: ignore[no-untyped-def]
        return "x"

    with pytest.raises(AgentDefinitionError, match=r"decorate it with @agent\(name=...\) or wrap it, FunctionAgent"):
        AgentPool([lookup])  # type: ignore[list-item]


def test_a_query_without_an_id_gets_one_from_its_text() -> None:
    from agentroute import Query

    assert Query(text="Who wrote Dune?").id == Query(text="Who wrote Dune?").id != Query(text="Who?").id
    assert Query(text="Who wrote Dune?").id.startswith("q-") and Query(id="mine", text="x").id == "mine"
    assert Query(text="Is it?", context=["a"]).id != Query(text="Is it?", context=["b"]).id != Query(text="Is it?").id


def test_an_agent_class_in_a_pool_is_an_error_that_says_to_instantiate_it() -> None:
    from agentroute import AgentPool

    class Lookup(Agent):
        def run(self, query: Query) -> str:
            return "x"

    with pytest.raises(AgentDefinitionError, match="got the class 'Lookup': instantiate it"):
        AgentPool([Lookup])  # type: ignore[list-item]
