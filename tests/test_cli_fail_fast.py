"""Bad command-line values fail fast: exit code 2, exactly one line on stderr, nothing on stdout, the
user's text printed literally (brackets included), no torch text and never advice to load unsafely."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from agentroute.cli import main


class WorkStarted(Exception):
    """Raised by the patched work: the command got past its checks before failing."""


def refuse_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failing fast means before any training, profiling, asking, replaying or serving: each raises."""

    def started(*args: object, **kwargs: object) -> None:
        raise WorkStarted

    from agentroute.workflow import AgentRoute

    for method in ("fit", "ask", "profile", "ask_many"):
        monkeypatch.setattr(AgentRoute, method, started)
    monkeypatch.setattr("agentroute.bench.replay.run_replay_benchmark", started)
    monkeypatch.setattr("agentroute.routers.gnn.router.train_model", started)  # imported there by name
    monkeypatch.setattr("uvicorn.run", started)


def run_main(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "argv", ["agentroute", *args])
    refuse_work(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    log = tmp_path / "log.jsonl"
    log.write_text(
        '{"qid": "q1", "question": "What is 2 plus 2?", "agents": {"a": {"score": 1.0}, "b": {"score": 0.0}}}\n'
    )
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00not a checkpoint at all\x00" * 10)
    zipped = tmp_path / "zipped.pt"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("archive/readme.txt", "a zip, not a checkpoint")
    store_file = tmp_path / "store[v1].json"
    store_file.write_text("{not json")
    return {
        "log": str(log),
        "junk": str(junk),
        "zipped": str(zipped),
        "missing": str(tmp_path / "missing[test].pt"),
        "bracketed": str(tmp_path / "runs[test].jsonl"),
        "tmpdir": str(tmp_path / "[/tmp]"),
        "out": str(tmp_path / "out"),
        "junk_store": f"file:{store_file}",
    }


def fill(arg: str, files: dict[str, str]) -> str:
    for key, value in files.items():
        arg = arg.replace("{" + key + "}", value)
    return arg


CASES = {
    # a wrong router name
    "ask router": (["ask", "hi", "--router", "nope"], "--router: unknown router 'nope'"),
    "bench router": (["bench", "run", "--logs", "{log}", "--routers", "knn,nope"], "unknown router 'nope'"),
    "train router": (["train", "--logs", "{log}", "--out", "{out}/m.pt", "--router", "nope"], "unknown router"),
    "train non-saving router": (["train", "--logs", "{log}", "--out", "{out}/m.pt", "--router", "knn"], "knn"),
    "serve router": (["serve", "--router", "nope"], "unknown router 'nope'"),
    "bench options": (
        ["bench", "run", "--logs", "{log}", "--options", '{"knn": {"nieghbours": 3}}'],
        "unknown nieghbours; it takes seed, k, neighbours",
    ),
    "bench aggregator options": (
        ["bench", "run", "--logs", "{log}", "--aggregator", "majority", "--aggregator-options", '{"merge": false}'],
        "--aggregator-options for majority: unknown merge; it takes merge_contained",
    ),
    "bench answer-aware options": (
        ["bench", "run", "--logs", "{log}", "--aggregator-options", '{"merge_contained": false}'],
        "for answer-aware: unknown merge_contained; it takes selector, base, extend, force",
    ),
    # a wrong device
    "ask device": (["ask", "hi", "--device", "tpu"], "--device tpu: expected auto, cpu or cuda"),
    "bench device": (["bench", "run", "--logs", "{log}", "--device", "tpu"], "--device tpu"),
    "train device": (["train", "--logs", "{log}", "--out", "{out}/m.pt", "--device", "cuda:x"], "--device cuda:x"),
    # a missing checkpoint, a junk one, a zip that is not a checkpoint
    "ask missing model": (["ask", "hi", "--model", "{missing}"], "missing[test].pt: no such file"),
    "serve missing model": (["serve", "--model", "{missing}"], "missing[test].pt: no such file"),
    "ask junk model": (["ask", "hi", "--model", "{junk}"], "junk.pt: not a router checkpoint"),
    "serve junk model": (["serve", "--model", "{junk}"], "junk.pt: not a router checkpoint"),
    "ask zip model": (["ask", "hi", "--model", "{zipped}"], "zipped.pt: not a router checkpoint"),
    # an output folder that takes no files: refused before any training
    "train unwritable out": (
        ["train", "--logs", "{log}", "--out", "/proc/m.pt"],
        "--out /proc/m.pt: cannot write in /proc",
    ),
    # a checkpoint beside a router that cannot load one (it used to be loaded as gnn, silently)
    "ask knn with model": (["ask", "hi", "--router", "knn", "--model", "{junk}"], "--router knn: does not load"),
    "serve knn with model": (["serve", "--router", "knn", "--model", "{junk}"], "--router knn: does not load"),
    "serve zero request timeout": (["serve", "--request-timeout", "0"], "--request-timeout"),
    "serve zero k": (["serve", "--k", "0"], "--k"),
    # bracketed paths and markup-like text, printed literally
    "bench bracketed log": (["bench", "run", "--logs", "{bracketed}"], "runs[test].jsonl: no such file"),
    "bench bracketed test log": (["bench", "run", "--logs", "{log}", "--test-logs", "{tmpdir}"], "[/tmp]"),
    "train bracketed log": (["train", "--logs", "{bracketed}", "--out", "{out}/m.pt"], "runs[test].jsonl"),
    "profile bracketed data": (["profile", "--data", "{bracketed}", "--out", "{out}/r.jsonl"], "runs[test].jsonl"),
    "kg ingest bracketed": (["kg", "ingest", "--logs", "{tmpdir}"], "[/tmp]: no such file"),
    "agents list bracketed": (["agents", "list", "--agents", "{tmpdir}/pool.py"], "[/tmp]/pool.py"),
    "ask bracketed agents": (["ask", "hi", "--agents", "{tmpdir}/pool.py"], "[/tmp]/pool.py"),
    "kg show bracketed agents": (["kg", "show", "hi", "--agents", "{tmpdir}/pool.py"], "[/tmp]/pool.py"),
    "kg stats junk store": (["kg", "stats", "--store", "{junk_store}"], "store[v1].json"),
    "kg stats unknown store": (["kg", "stats", "--store", "[/tmp]:x"], "--store [/tmp]:x: unknown store"),
    "quickstart unknown store": (["quickstart", "--store", "[bold]nope"], "[bold]nope"),
    "kg export format": (["kg", "export", "--format", "[red]svg"], "--format [red]svg"),
    "kg export junk store": (["kg", "export", "--store", "{junk_store}"], "store[v1].json"),
    # Typer's own usage errors, one line too
    "routers unknown option": (["routers", "--router", "nope"], "No such option"),
    "bench missing option": (["bench", "run"], "--logs"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_exit_2_before_any_work(case, files, capsys, monkeypatch) -> None:
    args, expected = CASES[case]
    code, stdout, stderr = run_main([fill(a, files) for a in args], capsys, monkeypatch)
    assert code == 2, (code, stderr)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert expected in lines[0]
    assert stdout == ""
    assert "Traceback" not in stderr and "weights_only" not in stderr and "torch" not in stderr.lower()


def test_cuda_without_cuda_is_one_line(files, capsys, monkeypatch) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    for args in (
        ["train", "--logs", files["log"], "--out", files["out"] + "/m.pt", "--device", "cuda"],
        ["ask", "hi", "--device", "cuda"],
    ):
        code, _, stderr = run_main(args, capsys, monkeypatch)
        assert code == 2
        assert stderr.strip() == "error: --device cuda: CUDA is not available on this machine; use --device cpu or auto"


def test_checkpoint_of_another_kind_is_one_line(tmp_path, capsys, monkeypatch) -> None:
    torch = pytest.importorskip("torch")
    other = tmp_path / "other.pt"
    torch.save({"kind": "something-else", "weights": torch.zeros(2)}, other)
    code, _, stderr = run_main(["ask", "hi", "--model", str(other)], capsys, monkeypatch)
    assert code == 2
    expected = f"error: --model {other}: not a GNN router checkpoint (expected kind 'agentroute.gnn-router')"
    assert stderr.strip() == expected


def test_checkpoint_of_another_format_version_is_one_line(tmp_path, capsys, monkeypatch) -> None:
    torch = pytest.importorskip("torch")
    from agentroute.routers.gnn.checkpoint import FORMAT_VERSION, KIND

    old = tmp_path / "old.pt"
    torch.save({"kind": KIND, "format_version": FORMAT_VERSION - 1}, old)
    code, _, stderr = run_main(["ask", "hi", "--model", str(old)], capsys, monkeypatch)
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert f"--model {old}: checkpoint format_version {FORMAT_VERSION - 1} does not match" in stderr
