"""Ports free to listen on, for processes started with a port chosen for them (tests, benchmarks, the
dev runner beside another platform).

A port the kernel hands out for `bind(0)` comes from the ephemeral range, the same range it takes the
local port of every outgoing connection from. Between the choice and the child process binding it
(tens of seconds for a service on a loaded machine) an outgoing connection, a pooled database or broker
connection that then lives for minutes, may take it, and the service cannot start ("Address already
in use" until that connection closes: a test platform's sales server failed so for two minutes). So
ports are drawn from below the ephemeral range, where the kernel never picks one by itself, and each
is checked by binding it.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10_000  # below: ports that well-known and registered services use more often


def chosen_range() -> range:
    """Ports below the ephemeral range (Linux default 32768-60999), above LOWEST; empty when the
    ephemeral range starts too low to leave room (then the kernel chooses)."""
    try:
        first_ephemeral = int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first_ephemeral = 32_768
    return range(LOWEST, max(LOWEST, first_ephemeral))


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free right now on 127.0.0.1. Every socket stays bound until all are chosen,
    so no port is handed out twice within one call; random draws keep two callers at once (pytest
    workers) apart."""
    candidates = chosen_range()
    sockets: list[socket.socket] = []
    try:
        if len(candidates) < 4 * count:
            for _ in range(count):
                sockets.append(_bound(0))
        else:
            for port in random.sample(candidates, min(len(candidates), 20 * count + 100)):
                if len(sockets) == count:
                    break
                try:
                    sockets.append(_bound(port))
                except OSError:
                    continue  # in use
        if len(sockets) < count:
            raise OSError(f"found {len(sockets)} free ports of the {count} wanted")
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _bound(port: int) -> socket.socket:
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock
