"""HeuristicExtractor behaviour on varied questions, the resolver, and the spaCy fallback."""

from __future__ import annotations

import importlib.util

import pytest

from agentroute.kg.extract import EntityExtractor, HeuristicExtractor, make_extractor


def pairs(text: str, **options: int) -> list[tuple[str, str]]:
    return [(e.id, e.kind) for e in HeuristicExtractor(**options).extract(text)]


def test_capitalised_multi_word_spans_and_question_words() -> None:
    got = pairs("How tall is the Eiffel Tower compared with buildings in New York City?")
    assert got == [
        ("tall", "word"),
        ("eiffel tower", "span"),
        ("compared", "word"),
        ("buildings", "word"),
        ("new york city", "span"),
    ]


def test_connectors_inside_names_and_leading_articles() -> None:
    got = pairs("Who wrote The Lord of the Rings and when did the Bank of America open?")
    assert ("lord of the rings", "span") in got
    assert ("bank of america", "span") in got
    assert all(kind != "span" or eid not in {"who", "the"} for eid, kind in got)


def test_lone_sentence_initial_stopword_is_skipped_but_names_are_kept() -> None:
    assert pairs("What is love?") == [("love", "word")]
    got = pairs("Which river flows through Paris?")
    assert got == [("river", "word"), ("flows", "word"), ("paris", "span")]
    assert pairs("Paris is lovely.")[0] == ("paris", "span")


def test_sentence_initial_number_word_is_trimmed_from_a_span() -> None:
    got = pairs("Three teenagers visited the Three Gorges Dam. Last week Fred paid.")
    assert ("three gorges dam", "span") in got and ("fred", "span") in got
    assert ("three", "span") not in got and ("last", "span") not in got


def test_initials_abbreviations_and_possessives() -> None:
    got = dict(pairs("Einstein's letter reached J. K. Rowling in St. Louis, U.S.A."))
    assert got["einstein"] == "span"
    assert got["j. k. rowling"] == "span"
    assert got["st. louis"] == "span"
    assert got["u.s.a"] == "span"


def test_numbers_ints_decimals_thousands_and_ordinals() -> None:
    got = pairs("Janet sells 16 eggs at $2.50 each, 1,200 in total, -3 lost, on her 5th day")
    nums = [eid for eid, kind in got if kind == "number"]
    assert nums == ["16", "2.50", "1200", "-3", "5"]


@pytest.mark.parametrize(
    ("text", "date_id"),
    [
        ("It opened on 2024-03-05.", "2024-03-05"),
        ("It opened on March 5, 2024.", "2024-03-05"),
        ("It opened on 5 March 2024.", "2024-03-05"),
        ("It opened on Mar. 5th 2024.", "2024-03-05"),
        ("It opened in May 1905.", "1905-05"),
        ("It opened in 1999.", "1999"),
    ],
)
def test_dates_in_several_spellings_share_one_id(text: str, date_id: str) -> None:
    got = pairs(text)
    assert (date_id, "date") in got
    assert not any(kind == "number" for _, kind in got)


def test_quoted_strings_double_single_and_curly_but_not_apostrophes() -> None:
    got = pairs("What does \"Carpe  Diem\" mean in 'Dead Poets Society' and “Hamlet”? I've seen it, don't")
    quoted = [eid for eid, kind in got if kind == "quoted"]
    assert quoted == ["carpe diem", "dead poets society", "hamlet"]
    assert not any("'" in eid for eid, _ in got)


def test_words_are_capped_deduplicated_and_in_order_of_appearance() -> None:
    text = "apple banana cherry apple damson elderberry fig grape honeydew kiwi lemon mango"
    got = pairs(text, max_words=5)
    assert got == [
        ("apple", "word"),
        ("banana", "word"),
        ("cherry", "word"),
        ("damson", "word"),
        ("elderberry", "word"),
    ]
    assert pairs("Paris and paris and PARIS") == [("paris", "span")]
    assert pairs("tiny ox ab is") == [("tiny", "word")]  # < 3 letters and stopwords dropped


def test_words_can_be_switched_off_and_mixed_kinds_keep_positions() -> None:
    got = HeuristicExtractor(words=False).extract("On 4 July 1776 the Second Continental Congress met 56 men")
    assert [(e.id, e.kind) for e in got] == [
        ("1776-07-04", "date"),
        ("second continental congress", "span"),
        ("56", "number"),
    ]
    assert got[0].text == "4 July 1776"


def test_empty_and_punctuation_only_text() -> None:
    assert pairs("") == []
    assert pairs("?!... ,,, --") == []


def test_make_extractor_resolves_names_and_options() -> None:
    ext = make_extractor("heuristic", max_words=2)
    assert isinstance(ext, EntityExtractor)
    assert len(ext.extract("alpha beta gamma delta")) == 2
    with pytest.raises(ValueError, match="unknown entity extractor"):
        make_extractor("magic")


@pytest.mark.skipif(importlib.util.find_spec("spacy") is not None, reason="spaCy is installed here")
def test_spacy_extractor_without_spacy_raises_a_clear_import_error() -> None:
    with pytest.raises(ImportError, match="pip install spacy"):
        make_extractor("spacy")
