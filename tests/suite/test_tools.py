"""The suite's tool agents one by one: what each understands, and that the calculator never evaluates code."""

from __future__ import annotations

import builtins

import pytest

from agentroute.agents import Agent
from agentroute.suite import World
from agentroute.suite.arith import ExpressionError, evaluate, extract_expression
from agentroute.suite.tools import make_tools
from agentroute.types import AgentResult, Query


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(0)


@pytest.fixture(scope="module")
def tools(world: World) -> dict[str, Agent]:
    return {a.name: a for a in make_tools(world, seed=0)}


def answer(agent: Agent, text: str, context: list[str] | None = None) -> str | None:
    out = agent.run(Query(id="q", text=text, context=context or []))
    return out.answer if isinstance(out, AgentResult) else out


@pytest.mark.parametrize(
    ("expression", "value"),
    [("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ^ 3 ^ 2", 512), ("-3 - -4", 1), ("7 / 2", 3.5), ("10 - 4 - 3", 3)],
)
def test_parser_precedence_and_associativity(expression: str, value: float) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize("bad", ["1 +", "(1 + 2", "1 / 0", "2 ^ 1000", "abs(3)", "__import__('os')", "1 2", ""])
def test_parser_rejects_what_is_not_arithmetic(bad: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(bad)


def test_expression_extraction_reads_operator_words() -> None:
    assert extract_expression("Compute 45 plus 12.") == "45 + 12"
    assert extract_expression("How much is 9 multiplied by 8?") == "9 * 8"
    assert extract_expression("Who is taller?") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What is 17 * 23?", "391"),
        ("Compute 45 plus 12.", "57"),
        ("Calculate (12 + 7) * 3.", "57"),
        ("How much is 144 divided by 12?", "12"),
        ("What is 2 ^ 10?", "1024"),
    ],
)
def test_calculator(tools: dict[str, Agent], text: str, expected: str) -> None:
    assert answer(tools["calculator"], text) == expected


def test_calculator_does_not_execute_code(tools: dict[str, Agent], monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec must never be called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    marker = tmp_path / "pwned"
    attacks = [
        f"What is __import__('os').system('touch {marker}')?",
        f"Compute __import__('pathlib').Path('{marker}').touch() plus 1",
        "What is (1).__class__.__base__.__subclasses__()?",
        "What is 2 + __import__('os').getpid()?",
    ]
    for text in attacks:
        result = tools["calculator"].run(Query(id="q", text=text))
        assert isinstance(result, AgentResult) and result.error is not None, text
    assert not marker.exists()
    assert answer(tools["calculator"], "What is 6 * 7?") == "42"  # still works with eval gone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Convert 10 km to miles.", "6.21"),
        ("How many kilometers is 26.2 miles?", "42.16"),
        ("What is 100 °C in degrees Fahrenheit?", "212"),
        ("-40 degrees Fahrenheit equals how many degrees Celsius?", "-40"),
        ("Convert 3 kilograms to pounds.", "6.61"),
    ],
)
def test_unit_converter(tools: dict[str, Agent], text: str, expected: str) -> None:
    assert answer(tools["unit-converter"], text) == expected


def test_unit_converter_knows_only_some_spellings(tools: dict[str, Agent]) -> None:
    assert answer(tools["unit-converter"], "Convert 5 kilometres to miles.") is None
    assert answer(tools["unit-converter"], "Convert 50 grams to ounces.") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What date is 45 days after 2021-03-04?", "2021-04-18"),
        ("What was the date 10 days before March 5, 2024?", "2024-02-24"),
        ("What day of the week was 2024-01-01?", "Monday"),
        ("How many days are there between 2020-01-01 and 2020-03-01?", "60"),
    ],
)
def test_date_calculator(tools: dict[str, Agent], text: str, expected: str) -> None:
    assert answer(tools["date-calculator"], text) == expected


def test_date_calculator_does_not_read_day_month_year(tools: dict[str, Agent]) -> None:
    assert answer(tools["date-calculator"], "What day of the week was 4 March 2021?") is None


def test_lookups_answer_from_partial_and_different_knowledge(world: World, tools: dict[str, Agent]) -> None:
    people = world.people
    one = [answer(tools["kb-lookup"], f"In which city does {p.name} live?") for p in people]
    two = [answer(tools["kb-two-hop"], f"In which city does {p.name} live?") for p in people]
    truth = [p.city for p in people]
    right_one = sum(a == t for a, t in zip(one, truth, strict=True))
    right_two = sum(a == t for a, t in zip(two, truth, strict=True))
    assert 0.6 * len(people) < right_one < len(people)
    assert 0.5 * len(people) < right_two < len(people)
    assert one != two  # each lookup has its own knowledge


def test_two_hop_chains_where_one_hop_answers_the_first_hop(world: World, tools: dict[str, Agent]) -> None:
    chained = first_hop = 0
    for p in world.people:
        text = f"In which country does {p.name} live?"
        country = world.facts[p.city]["country"]
        chained += answer(tools["kb-two-hop"], text) == country
        first_hop += answer(tools["kb-lookup"], text) in world.names_of("city")
    assert chained > 0.3 * len(world.people)
    assert first_hop > 0.6 * len(world.people)  # a plausible but wrong answer: the city


def test_passage_reader_needs_passages(world: World, tools: dict[str, Agent]) -> None:
    company = world.companies[0]
    text = f"When was {company.name} founded?"
    assert answer(tools["passage-reader"], text) is None
    passages = [world.passages[company.name], world.passages[world.cities[0].name]]
    assert answer(tools["passage-reader"], text, passages) == str(company.founded)
    a, b = world.people[0], world.people[1]
    taller = a.name if a.height > b.height else b.name
    context = [world.passages[a.name], world.passages[b.name]]
    assert a.height != b.height  # the seeded world's first two people differ, so there is a right answer
    assert answer(tools["passage-reader"], f"Who is taller, {a.name} or {b.name}?", context) == taller


def test_generalist_tries_everything_roughly(tools: dict[str, Agent]) -> None:
    generalist = tools["generalist"]
    assert answer(generalist, "What do you get if you add 5 to 7?") == "12"  # verbal forms: only it reads them
    assert answer(generalist, "What is 17 * 23?") not in (None, "391")  # but it only estimates
    assert answer(generalist, "Convert 10 km to miles.") == "6"
    assert answer(generalist, "What is 20 °C in degrees Fahrenheit?") == "68"
    assert answer(generalist, "What day of the week was 2024-01-01?") in {
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
    }  # fmt: skip
