"""Loopback ports for the servers tests and benchmarks start (FalkorDB, PostgreSQL, agentroute serve)."""

from __future__ import annotations

import random
import socket


def free_port(low: int = 0, high: int = 0) -> int:
    """A loopback port nobody listens on right now: any (the OS picks), or one in ``low..high``.

    Free when asked, not reserved: a server started on it may still lose it to another process (rare on
    loopback); start servers that can take an open socket on one instead.
    """
    for _ in range(200):
        port = random.randint(low, high) if high else 0
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError(f"no free loopback port in {low}..{high}")
