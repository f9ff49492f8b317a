"""Ports chosen for child processes come from below the kernel's ephemeral range, free and distinct."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from crm_platform import listen_ports
from crm_platform.listen_ports import chosen_range, free_ports


def test_ports_are_free_distinct_and_outside_the_ephemeral_range() -> None:
    first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = free_ports(16)
    assert len(set(ports)) == 16
    assert all(listen_ports.LOWEST <= port < first_ephemeral for port in ports)
    for port in ports:  # each can be listened on at once
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
            sock.listen()


def test_a_port_in_use_is_never_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(listen_ports, "chosen_range", lambda: range(port, port + 8))
        chosen = free_ports(2)
    assert port not in chosen
    assert all(port < other < port + 8 for other in chosen)


def test_too_small_a_range_leaves_the_choice_to_the_kernel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ranges = tmp_path / "ip_local_port_range"
    ranges.write_text("1024\t60999\n")
    monkeypatch.setattr(listen_ports, "EPHEMERAL_RANGE_FILE", ranges)
    assert len(chosen_range()) == 0
    ports = free_ports(3)
    assert len(set(ports)) == 3
