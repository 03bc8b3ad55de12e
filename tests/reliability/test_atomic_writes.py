"""Checkpoints, store files and reports are written atomically: a process killed in the middle of a write
(a real SIGKILL, or an error raised half-way) leaves the previous file intact and loadable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cli_helpers import cli_env

from agentroute.atomic import atomic_write, atomic_write_text
from agentroute.kg.stores.networkx_store import NetworkXStore
from agentroute.routers.gnn.checkpoint import load_checkpoint, save_checkpoint


def payload(value: float) -> dict:
    return {"state_dicts": [{"w": torch.full((64, 64), value)}], "agents": ["a", "b"], "hparams": {"x": 1}}


# A child process that starts a real save, stalls inside the write (after the new bytes are on their way,
# before the rename), and says so: the test then SIGKILLs it there.
STALL = """
import os, sys, time
real_fsync = os.fsync
def stall(fd):
    print("writing", flush=True)
    time.sleep(60)
os.fsync = stall
kind, path = sys.argv[1], sys.argv[2]
if kind == "checkpoint":
    import torch
    from agentroute.routers.gnn.checkpoint import save_checkpoint
    save_checkpoint(path, {"state_dicts": [{"w": torch.full((64, 64), 2.0)}], "agents": ["new"], "hparams": {}})
else:
    from agentroute.kg.stores.networkx_store import NetworkXStore
    store = NetworkXStore(path)
    store.upsert_nodes("Agent", [{"id": f"new-{i}"} for i in range(2000)])
    store.flush()
"""


def kill_mid_write(kind: str, path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", STALL, kind, str(path)], env=cli_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


def test_checkpoint_killed_mid_save_leaves_the_previous_one(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(path, payload(1.0))
    before = path.read_bytes()
    kill_mid_write("checkpoint", path)
    assert path.read_bytes() == before
    body = load_checkpoint(path)
    assert body["agents"] == ["a", "b"] and torch.equal(body["state_dicts"][0]["w"], torch.full((64, 64), 1.0))
    save_checkpoint(path, payload(3.0))  # the next save still works (stale temp files do not get in the way)
    assert float(load_checkpoint(path)["state_dicts"][0]["w"][0, 0]) == 3.0


def test_store_file_killed_mid_flush_leaves_the_previous_one(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    store = NetworkXStore(path)
    store.upsert_nodes("Agent", [{"id": "old"}])
    store.close()
    before = path.read_bytes()
    kill_mid_write("store", path)
    assert path.read_bytes() == before
    assert [n["id"] for n in NetworkXStore(path).nodes("Agent")] == ["old"]


def test_error_half_way_through_a_write_leaves_the_previous_file_and_no_litter(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    atomic_write_text(path, '{"old": true}')

    def half_then_crash(fh) -> None:
        fh.write(b'{"new": tr')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_crash)
    assert path.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_checkpoint_save_that_fails_half_way_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(path, payload(1.0))

    def torn_save(obj, fh) -> None:
        fh.write(b"PK\x03\x04 half a zip")
        raise RuntimeError("killed")

    monkeypatch.setattr(torch, "save", torn_save)
    with pytest.raises(RuntimeError):
        save_checkpoint(path, payload(2.0))
    monkeypatch.undo()
    assert float(load_checkpoint(path)["state_dicts"][0]["w"][0, 0]) == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_stalled_writer_is_not_visible_until_complete(tmp_path: Path) -> None:
    """Readers never see a partial file: while the writer is in flight, the old content is what is there."""
    path = tmp_path / "data.bin"
    atomic_write(path, lambda fh: fh.write(b"old"))
    seen = []

    def slow(fh) -> None:
        for chunk in (b"n", b"e", b"w"):
            fh.write(chunk)
            fh.flush()
            seen.append(path.read_bytes())
            time.sleep(0.001)

    atomic_write(path, slow)
    assert seen == [b"old", b"old", b"old"] and path.read_bytes() == b"new"
