"""Start a throw-away PostgreSQL cluster on a free loopback port (for checkpointer tests and benchmarks).

Why: ``PostgresSaver`` must be tested against a real server, and a fresh clone has none running. This uses
the installed server binaries (Debian's ``postgresql`` package: ``/usr/lib/postgresql/<v>/bin``, or
``initdb`` on PATH): ``uri, stop = start_postgres(); ...; stop()``. The cluster lives in a temporary
directory, trusts loopback connections, runs without fsync, and is deleted by ``stop()``. PostgreSQL
refuses to run as root, so under root the cluster is created and run as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from agentroute.testing.ports import free_port


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries, or the server did not come up."""


def postgres_bindir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl`` (the newest Debian version, else from PATH)."""
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if os.access(os.path.join(bindir, "pg_ctl"), os.X_OK):
            return Path(bindir)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("PostgreSQL server binaries not found (apt-get install postgresql)")


def _as_server_user() -> tuple[list[str], int | None]:
    """(command prefix, uid to own the cluster): ``runuser -u postgres --`` when running as root."""
    if os.geteuid() != 0:
        return [], None
    import pwd

    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        raise PostgresUnavailable("running as root but there is no 'postgres' user to run the server") from None
    return ["runuser", "-u", "postgres", "--"], uid


def start_postgres(timeout: float = 30.0) -> tuple[str, Callable[[], None]]:
    """Create and start a cluster; returns (``postgresql://`` URI of database ``postgres``, stop)."""
    bindir = postgres_bindir()
    prefix, uid = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="agentroute-pg-"))
    data, log = root / "data", root / "server.log"
    if uid is not None:
        os.chown(root, uid, -1)

    def run(*args: str) -> None:
        proc = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: {proc.stderr.strip()[-2000:]} {tail}".strip())

    def stop() -> None:
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=timeout)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "agentroute", "-A", "trust", "-E", "UTF8", "--no-sync")
        port = free_port()
        options = f"-h 127.0.0.1 -p {port} -k {root} -F -c max_connections=50"
        pg_ctl = str(bindir / "pg_ctl")
        run(pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-t", str(int(timeout)), "-w", "start")
    except BaseException:
        stop()
        raise
    return f"postgresql://agentroute@127.0.0.1:{port}/postgres", stop
