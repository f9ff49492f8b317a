"""Clients ping their servers while a call is open (grpc_client.KEEPALIVE_TIME_MS), and a long call such as
the gateway's health watch sends no data between pings: the chassis' server must accept those pings, or
it closes the connection (GOAWAY ENHANCE_YOUR_CALM) and every call on it fails. Real server, real
channel; the keepalive shortened to a second so that a few pings happen within the test."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from crm_platform import grpc_client
from crm_platform.grpc_server import GrpcServer

CLIENT_PING_MS = 1000


def _watch_survives(server_keepalive_ms: int, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether a health watch held open for several client pings, then a call on the same channel, both
    still work afterwards."""
    monkeypatch.setattr(grpc_client, "KEEPALIVE_TIME_MS", server_keepalive_ms)  # what the server assumes
    server = GrpcServer("keepalive", "127.0.0.1:0", lambda _server: []).start()
    options = [(k, v) for k, v in grpc_client.CHANNEL_OPTIONS if k != "grpc.keepalive_time_ms"]
    channel = grpc.insecure_channel(
        f"127.0.0.1:{server.port}", options=[*options, ("grpc.keepalive_time_ms", CLIENT_PING_MS)]
    )
    ended = threading.Event()
    stream = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))

    def read() -> None:
        try:
            for _answer in stream:
                pass
        except grpc.RpcError:
            pass
        ended.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        time.sleep(CLIENT_PING_MS * 4 / 1000)
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.RpcError:
            return False
        return not ended.is_set()
    finally:
        stream.cancel()
        channel.close()
        server.stop(0)


def test_a_quiet_open_call_survives_the_clients_keepalive_pings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _watch_survives(CLIENT_PING_MS, monkeypatch)


def test_premise_a_server_refusing_those_pings_ends_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not _watch_survives(CLIENT_PING_MS * 20, monkeypatch)
