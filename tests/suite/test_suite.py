"""The built-in suite as a benchmark: deterministic, varied, and one where routing to a set of agents pays."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from statistics import mean

import pytest

from agentroute.normalize import exact_match, normalize_answer
from agentroute.suite import Suite, build_suite
from agentroute.suite.questions import KIND_WEIGHTS
from agentroute.types import AgentResult

KINDS = set(KIND_WEIGHTS)


def _text(out: str | AgentResult) -> str | None:
    return out.answer if isinstance(out, AgentResult) else out


def _answers(suite: Suite, split: str = "test") -> list[tuple[str, list[str], dict[str, str | None]]]:
    """(kind, gold, agent -> answer) for every question of a split, asked as routers/agents see it."""
    rows = []
    for q in getattr(suite, split):
        outs = {a.name: _text(a.run(q.for_routing())) for a in suite.agents}
        rows.append((q.meta["kind"], q.gold or [], outs))
    return rows


@pytest.fixture(scope="module")
def suite() -> Suite:
    return build_suite(0)


@pytest.fixture(scope="module")
def graded(suite: Suite) -> list[tuple[str, dict[str, float], dict[str, str | None]]]:
    return [(k, {n: exact_match(a, gold) for n, a in outs.items()}, outs) for k, gold, outs in _answers(suite)]


def _digest(seed: int) -> str:
    suite = build_suite(seed, n_train=60, n_test=30)
    answers = [outs for _, _, outs in _answers(suite, "train") + _answers(suite, "test")]
    questions = suite.train + suite.test
    payload = [(q.id, q.text, q.context, q.gold, q.meta, a) for q, a in zip(questions, answers, strict=True)]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def test_deterministic_by_seed_even_across_processes() -> None:
    here = _digest(4)
    assert _digest(4) == here and _digest(5) != here
    code = "from tests.suite.test_suite import _digest; print(_digest(4))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # str hashes differ from this process
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=repo)
    assert out.stdout.strip() == here


def test_sizes_split_and_fields(suite: Suite) -> None:
    assert (len(suite.train), len(suite.test)) == (600, 300)
    everything = suite.train + suite.test
    assert len({q.id for q in everything}) == 900
    assert not {q.text for q in suite.train} & {q.text for q in suite.test}
    assert len({q.text for q in suite.test}) == 300
    for q in everything:
        assert q.gold and all(g.strip() for g in q.gold)
        assert q.meta["kind"] in KINDS and q.meta["has_context"] == bool(q.context)
        assert "," not in q.gold[0] and "  " not in q.text  # plain numbers, clean text
    small = build_suite(1, n_train=10, n_test=5)
    assert (len(small.train), len(small.test)) == (10, 5)


def test_every_kind_has_several_phrasings_and_context_varies(suite: Suite) -> None:
    forms: dict[str, set[str]] = defaultdict(set)
    context: dict[str, set[bool]] = defaultdict(set)
    for q in suite.train + suite.test:
        kind = q.meta["kind"]
        forms[kind].add(q.meta["form"].rsplit(".", 1)[-1])  # the phrasing index
        context[kind].add(bool(q.context))
    assert set(forms) == KINDS
    assert all(len(f) >= 3 for f in forms.values()), forms
    for kind in ("fact", "two_hop", "comparison"):
        assert context[kind] == {True, False}
    shares = Counter(q.meta["kind"] for q in suite.test)
    assert all(shares[k] >= 15 for k in KINDS), shares


def test_questions_carry_the_signal_of_their_kind(suite: Suite) -> None:
    names = list(suite.world.types)
    for q in suite.train:
        kind, text = q.meta["kind"], q.text
        mentions = any(n in text for n in names)
        assert mentions == (kind in ("fact", "two_hop", "comparison")), text
        if kind == "date":
            assert any(ch.isdigit() for ch in text)


def test_routing_pays_oracle_well_above_the_best_single_agent(graded) -> None:
    per_agent = {n: mean(s[n] for _, s, _ in graded) for n in graded[0][1]}
    best = max(per_agent.values())
    oracle = mean(max(s.values()) for _, s, _ in graded)
    assert 0.3 <= best <= 0.6, per_agent
    assert oracle >= best + 0.25, (oracle, per_agent)
    two_right = mean(sum(s.values()) >= 2 for _, s, _ in graded)
    assert two_right >= 0.25  # voting over a set has something to agree on


def test_no_single_agent_is_best_at_everything(graded) -> None:
    winners = set()
    for kind in KINDS:
        rows = [s for k, s, _ in graded if k == kind]
        winners.add(max(rows[0], key=lambda n: mean(r[n] for r in rows)))
    assert len(winners) >= 4, winners


@pytest.mark.parametrize(
    ("name", "kinds", "low", "high"),
    [
        ("calculator", ["arithmetic"], 0.6, 0.95),
        ("unit-converter", ["conversion"], 0.55, 0.95),
        ("date-calculator", ["date"], 0.65, 0.99),
        ("kb-lookup", ["fact"], 0.65, 0.95),
        ("kb-lookup", ["comparison"], 0.65, 0.97),
        ("kb-two-hop", ["two_hop"], 0.2, 0.7),
        ("kb-two-hop", ["fact"], 0.4, 0.85),
        ("generalist", ["arithmetic", "conversion", "date", "fact", "two_hop", "comparison"], 0.15, 0.4),
    ],
)
def test_each_tool_is_good_but_imperfect_on_its_kinds(graded, name: str, kinds: list[str], low: float, high: float):
    rate = mean(s[name] for k, s, _ in graded if k in kinds)
    assert low <= rate <= high, rate


def test_passage_reader_is_good_with_context_and_silent_without(suite: Suite) -> None:
    reader = suite.agents["passage-reader"]
    with_ctx = [q for q in suite.test if q.context and q.meta["kind"] in ("fact", "comparison")]
    rate = mean(exact_match(_text(reader.run(q)), q.gold or []) for q in with_ctx)
    assert 0.6 <= rate < 1.0
    silent = [reader.run(q) for q in suite.test if not q.context]
    assert all(isinstance(r, AgentResult) and r.error for r in silent)


def test_wrong_answers_are_varied(graded) -> None:
    for name in graded[0][1]:
        wrong = [normalize_answer(o[name]) for _, s, o in graded if not s[name] and o[name]]
        if len(wrong) >= 10:
            top_share = Counter(wrong).most_common(1)[0][1] / len(wrong)
            assert top_share < 0.3, (name, Counter(wrong).most_common(3))
