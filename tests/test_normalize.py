from __future__ import annotations

from agentroute.normalize import exact_match, f1, normalize_answer


def test_normalisation_drops_case_punctuation_and_articles() -> None:
    assert normalize_answer("The Eiffel Tower!") == "eiffel tower"
    assert normalize_answer("  Denver   Broncos. ") == "denver broncos"
    assert normalize_answer("U.S.A.") == "usa"


def test_numbers_are_canonical() -> None:
    assert normalize_answer("1,200.50") == normalize_answer("1200.5") == "1200.5"
    assert normalize_answer("3.0") == "3"
    assert normalize_answer("$12") == "12"


def test_a_lone_article_is_an_answer() -> None:
    assert normalize_answer("A") == "a"
    assert exact_match("A", ["a"]) == 1.0
    assert exact_match("B", ["A"]) == 0.0


def test_exact_match_and_f1() -> None:
    assert exact_match("the Eiffel Tower", ["Eiffel Tower", "tour eiffel"]) == 1.0
    assert exact_match("", ["x"]) == 0.0
    assert f1("Paris France", ["Paris"]) == 2 / 3
    assert f1("Lyon", ["Paris"]) == 0.0
