"""A service that comes back (restarted, rescheduled) is used again within a couple of seconds by the
channels that lost it. gRPC retries a lost connection with a backoff that grows by 1.6x per failed
attempt up to two minutes by default: after ten seconds down, the next attempt came up to six seconds
after the service was back, and the gateway's readiness said the service was unreachable all that time.
Real server, real channel with the platform's options. (Without
MAX_RECONNECT_BACKOFF_MS this test measured 6.2 s.)"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from crm_platform import grpc_client
from crm_platform.grpc_server import GrpcServer

DOWN_SECONDS = 10.0


def _seconds_until_used_again(open_channel: Callable[[str], grpc.Channel]) -> float:
    """How long after a server restarts on its port a channel that watched it go down reaches it again."""
    server = GrpcServer("reconnect", "127.0.0.1:0", lambda _server: []).start()
    port = server.port
    channel = open_channel(f"127.0.0.1:{port}")
    health = health_pb2_grpc.HealthStub(channel)
    try:
        health.Check(health_pb2.HealthCheckRequest(), timeout=2)
        server.stop(0)
        down_until = time.monotonic() + DOWN_SECONDS
        while time.monotonic() < down_until:  # callers keep trying meanwhile, as the gateway's do
            with contextlib.suppress(grpc.RpcError):
                health.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
            time.sleep(0.25)
        server = GrpcServer("reconnect", f"127.0.0.1:{port}", lambda _server: []).start()
        back = time.monotonic()
        while time.monotonic() - back < 30:
            try:
                health.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                return time.monotonic() - back
            except grpc.RpcError:
                time.sleep(0.05)
        return float("inf")
    finally:
        channel.close()
        server.stop(0)


def test_a_restarted_server_is_reached_again_within_two_seconds() -> None:
    assert _seconds_until_used_again(grpc_client.open_plain_channel) < 2.0
