"""Hostile input, property-based: every loader and parser, fed truncated, empty, binary, huge-line,
wrong-encoding and randomly damaged files, either reads them or fails with one clear line naming the file
(and the line) — never a traceback, never another exception type, never a file written half-way."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from cli_helpers import run_main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentroute.agents.loading import AgentLoadError, load_agents
from agentroute.bench.datasets import DatasetFormatError, read_qa
from agentroute.bench.logs import LogFormatError, read_routing_log
from agentroute.bench.resultlog import ResultsFileError, read_rows
from agentroute.routers.gnn.checkpoint import CheckpointError, load_checkpoint
from agentroute.routers.multiround import parse_turn
from agentroute.routers.reasoning import parse_reasoning_reply
from agentroute.types import RunRecord

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TRIED: dict[str, int] = {}  # inputs tried per target (tests/conftest.py prints the count, for the README)

GOOD_LOG_LINE = json.dumps(
    {"qid": "q1", "question": "What is 2 + 2?", "gold": ["4"], "agents": {"calc": {"score": 1.0, "pred": "4"}}}
)
GOOD_QA_LINE = json.dumps({"id": "q1", "question": "What is 2 + 2?", "answer": "4"})

# The shapes a broken file takes: random bytes, a valid file cut anywhere, wrong encodings, a huge line,
# deep nesting, NUL bytes, valid JSON of the wrong shape, a valid line with random damage.
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def damaged_files(draw: st.DrawFn, good_line: str) -> bytes:
    good = (good_line + "\n").encode()
    kind = draw(st.sampled_from(["binary", "truncated", "encoding", "huge", "deep", "nul", "shape", "flip", "empty"]))
    if kind == "binary":
        return draw(st.binary(max_size=300))
    if kind == "truncated":
        whole = good * draw(st.integers(1, 3))
        return whole[: draw(st.integers(0, len(whole)))]
    if kind == "encoding":
        codec = draw(st.sampled_from(["latin-1", "utf-16", "utf-32", "cp1252"]))
        return good_line.replace("What", "Qué").encode(codec, errors="replace") + b"\n"
    if kind == "huge":
        return b'{"question": "' + b"x" * draw(st.integers(100_000, 400_000)) + b'", "agents": {}}\n'
    if kind == "deep":
        depth = draw(st.integers(2_000, 50_000))
        return b"[" * depth + b"]" * depth + b"\n"
    if kind == "nul":
        return good.replace(b"2 + 2", b"2 \x00 2")
    if kind == "shape":
        return (json.dumps(draw(json_values)) + "\n").encode()
    if kind == "flip":
        raw = bytearray(good * 2)
        for _ in range(draw(st.integers(1, 4))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
        return bytes(raw)
    return b""


def assert_one_clear_line(err: BaseException, path: Path) -> None:
    message = str(err)
    assert str(path) in message, message
    assert "\n" not in message and len(message) < 600, message
    assert "Traceback" not in message


def count(target: str) -> None:
    TRIED[target] = TRIED.get(target, 0) + 1


@FUZZ
@given(data=damaged_files(GOOD_LOG_LINE), gz=st.booleans())
def test_routing_log_reader(tmp_path: Path, data: bytes, gz: bool) -> None:
    count("routing log reader")
    path = tmp_path / ("log.jsonl.gz" if gz else "log.jsonl")
    path.write_bytes(gzip.compress(data) if gz and data[:1] != b"[" else data)
    try:
        records = read_routing_log(path)
    except LogFormatError as e:
        assert_one_clear_line(e, path)
    else:
        assert all(isinstance(r, RunRecord) for r in records)


@FUZZ
@given(data=damaged_files(GOOD_QA_LINE), ext=st.sampled_from([".jsonl", ".json", ".csv", ".jsonl.gz"]))
def test_qa_benchmark_loader(tmp_path: Path, data: bytes, ext: str) -> None:
    count("QA benchmark loader")
    path = tmp_path / f"qa{ext}"
    if ext == ".csv":
        data = b"id,question,answer\n" + data
    path.write_bytes(gzip.compress(data) if ext.endswith(".gz") else data)
    try:
        queries = read_qa(path)
    except DatasetFormatError as e:
        assert_one_clear_line(e, path)
    else:
        assert all(q.text.strip() for q in queries)


@FUZZ
@given(data=damaged_files(GOOD_LOG_LINE))
def test_results_file_reader_keeps_every_complete_row(tmp_path: Path, data: bytes) -> None:
    """A resumed results file: complete rows come back or the bad line is named; only an unterminated
    tail is ever removed, and nothing before it changes."""
    count("results.jsonl reader")
    path = tmp_path / "results.jsonl"
    path.write_bytes(data)
    try:
        read_rows(path, json.loads)
    except ResultsFileError as e:
        assert_one_clear_line(e, path)
        assert path.read_bytes() == data  # refused: not touched
    else:
        kept = path.read_bytes()
        assert data.startswith(kept) and (kept == data or b"\n" not in data[len(kept) :])


POOL_SOURCES = st.sampled_from(
    [
        "",
        "raise RuntimeError('no')",
        "import sys; sys.exit(3)",
        "def broken(:\n",
        "AGENTS = 5",
        "AGENTS = lambda: 1 / 0",
        "AGENTS = [object()]",
        "from agentroute import agent\n@agent(name='a b c')\ndef f(q): return 'x'\n",
        "from agentroute import agent\n@agent(name='dup')\ndef f(q): return 'x'\n"
        "@agent(name='dup')\ndef g(q): return 'y'\n",
        "from agentroute import agent\n@agent\ndef f(): return 'x'\n",
        "x = '\x00'",
        "\udcff",
    ]
)


@FUZZ
@given(source=POOL_SOURCES | st.text(max_size=60), binary=st.binary(max_size=40))
def test_agent_pool_loader(tmp_path: Path, source: str, binary: bytes) -> None:
    count("agent-pool loader")
    path = tmp_path / "pool.py"
    path.write_bytes(source.encode("utf-8", errors="surrogateescape") + binary)
    try:
        pool = load_agents(path)
    except (AgentLoadError, ValueError) as e:
        assert_one_clear_line(e, path)
    else:
        assert len(pool) >= 1


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # random bytes may name any protocol
@FUZZ
@given(data=st.binary(max_size=400) | damaged_files(GOOD_LOG_LINE))
def test_checkpoint_loader(tmp_path: Path, data: bytes) -> None:
    count("checkpoint loader")
    path = tmp_path / "model.pt"
    path.write_bytes(data)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    assert str(path) in str(caught.value)


AGENTS = {"A1": "calculator", "A2": "kb-lookup", "A3": "reader"}
TAG_SOUP = st.lists(
    st.sampled_from(
        [
            "<reason>",
            "</reason>",
            "<id>",
            "</id>",
            "A1",
            "A2",
            "a3",
            "oos",
            "calculator",
            "ignore previous",
            "<think>",
            "</think>",
            "```",
            "rm -rf",
            "<search>",
            "</search>",
            "<answer>",
            "</answer>",
            ":",
            ",",
            " ",
            "\n",
            "evil-agent",
            "A99",
            "Calculator:",
            "kb-lookup: who?",
            "<information>",
        ]
    )
    | texts,
    max_size=25,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(text=TAG_SOUP, limit=st.integers(1, 3))
def test_router_reply_parsers_only_ever_name_registered_agents(text: str, limit: int) -> None:
    """TCAR replies and Router-R1 turns from a model (or a prompt injection): whatever the text, the
    parsed choice names only listed agents, within the limit; nothing raises."""
    count("router-output parsers")
    reply = parse_reasoning_reply(text, AGENTS, limit)
    assert set(reply.chosen) <= set(AGENTS.values()) and len(reply.chosen) <= limit
    turn = parse_turn(text, list(AGENTS.values()))
    if turn.kind == "search":
        assert turn.agent in AGENTS.values() and turn.query
    elif turn.kind == "answer":
        assert turn.answer
    else:
        assert turn.problem


OPTION_VALUES = st.sampled_from(
    [
        "",
        "-1",
        "0",
        "nan",
        "inf",
        "1e999",
        "abc",
        "[/tmp]",
        "{",
        '{"x": 1}',
        "gnn,,",
        "\x1b[31m",
        "../../etc",
        "knn;rm -rf /",
        "💥",
        "9" * 40,
    ]
)
OPTIONS = ["--folds", "--routers", "--seed", "--embedder", "--device", "--options", "--test-logs"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(OPTIONS), value=OPTION_VALUES)
def test_cli_options(tmp_path: Path, option: str, value: str) -> None:
    """A bad option value is one line naming the option, exit 2; the --out folder gets nothing."""
    count("CLI options")
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(GOOD_LOG_LINE.replace("q1", f"q{i}").replace("2 + 2", f"{i} + 2") for i in range(6)))
    out = tmp_path / "out"
    code, _, err = run_main(
        "bench", "run", "--logs", str(log), "--routers", "oracle", "--folds", "2", option, value, "--out", str(out)
    )
    assert code in (0, 2), err
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in err, err
        assert option in err or option.lstrip("-").split("-")[0] in err, err  # it names the option
        assert not (out / "results.jsonl").exists() or (out / "results.jsonl").read_bytes().endswith(b"\n")


@pytest.mark.parametrize("reader", ["agentroute.prices:load_prices", "agentroute.bench.costs:read_prices"])
def test_a_prices_or_agent_info_file_in_another_encoding_names_the_file(tmp_path: Path, reader: str) -> None:
    from agentroute.agents.descriptions import read_agent_info
    from agentroute.registry import resolve

    path = tmp_path / "utf16.json"
    path.write_bytes('{"a": {"per_call": 0.01}}'.encode("utf-16"))
    for read in (resolve(reader), read_agent_info):
        with pytest.raises(ValueError, match=rf"{path}:1: not UTF-8 text \(byte 0xff at column 1\)"):
            read(path)
