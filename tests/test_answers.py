"""Final-answer extraction and the benchmark scorers."""

import pytest

from agentroute.answers import auto_score, choice_match, extract_answer, has_options, make_scorer, numeric_match

MC = "Which is a mammal?\nA) shark\nB) whale\nC) trout\nD) eel"


@pytest.mark.parametrize(
    ("text", "question", "expected"),
    [
        ("Let me think.\nAnswer: Paris", "", "Paris"),
        ("**Final Answer:** **Paris.**", "", "Paris"),
        ("so x = 3 and \\boxed{\\frac{1}{2}} is it", "", "\\frac{1}{2}"),
        ("Reasoning...\nThe answer is 42.", "", "42"),
        ("Whales breathe air.\nAnswer: (B) whale", MC, "B"),
        ("B) whale", MC, "B"),
        ("Long reasoning over many many words that goes on and on and on and on and on.\nParis", "", "Paris"),
        ("Answer: 3.5", "", "3.5"),
        ("", "", ""),
        # a sign or a leading point is part of the answer; only spaces and markdown marks go
        ("Answer: -5", "", "-5"),
        ("**Answer:** .5", "", ".5"),
        ("Answer: +3", "", "+3"),
        ("Answer: (B)", "Pick one: (A) shark (B) whale", "B"),  # options on one line
        # "Answer:" with nothing after it on its line does not take the next line
        ("Draft answer:\nParis is the capital of France and its largest city by far today\nParis", "", "Paris"),
        # "the answer is" + a judgement of an answer is not an answer
        ("15 + 27 = 42\nThe answer is indeed correct", "", "15 + 27 = 42"),
    ],
)
def test_extract_answer(text, question, expected):
    assert extract_answer(text, question) == expected


def test_long_mode_keeps_the_answer_line_and_text_without_marker():
    assert extract_answer("x\nAnswer: Paris, the capital.", short=False) == "Paris, the capital."
    assert extract_answer("Paris is the capital of France.", short=False) == "Paris is the capital of France."


def test_has_options():
    assert has_options(MC)
    assert not has_options("What is A?")
    assert has_options("Which is a fruit? A) car B) apple") and not has_options("I met A) nobody")


def test_scorers():
    assert numeric_match("It costs $1,200.00 total", ["1200"]) == 1.0
    assert numeric_match("no number", ["3"]) == 0.0
    assert choice_match("(b)", ["B"]) == 1.0 and choice_match("C", ["B"]) == 0.0
    assert auto_score("b", ["B"]) == 1.0
    assert auto_score("about 12 apples", ["12"]) == 1.0
    assert auto_score("Paris", ["paris"]) == 1.0 and auto_score("Paris, France", ["Paris"]) == 0.0
    assert make_scorer("f1")("Paris France", ["Paris"]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="--metric 'bleu'"):
        make_scorer("bleu")
