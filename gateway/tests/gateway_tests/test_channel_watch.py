"""The health watch the gateway holds open on each channel (gateway.channel_watch), against real gRPC
servers with the chassis' health servicer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gateway.channel_watch import ChannelWatch


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


class _HealthServer:
    def __init__(self, port: int = 0) -> None:
        # One handler thread: a watch that held it would starve every other call (it must not).
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.port = self.server.add_insecure_port(f"127.0.0.1:{port}")
        self.server.start()

    def stop(self) -> None:
        self.server.stop(0).wait()


@pytest.fixture
def server() -> Iterator[_HealthServer]:
    running = _HealthServer()
    yield running
    running.stop()


def test_the_watch_tells_the_status_and_its_changes(server: _HealthServer) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    watch = ChannelWatch(channel, "test")
    try:
        assert _wait_for(lambda: watch.status == health_pb2.HealthCheckResponse.SERVING)
        server.health.enter_graceful_shutdown()
        assert _wait_for(lambda: watch.status == health_pb2.HealthCheckResponse.NOT_SERVING)
    finally:
        watch.close()
        channel.close()


def test_an_open_watch_holds_no_handler_thread_of_the_service(server: _HealthServer) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    watches = [ChannelWatch(channel, f"w{n}") for n in range(3)]
    try:
        assert _wait_for(lambda: all(w.status is not None for w in watches))
        check = health_pb2_grpc.HealthStub(channel).Check
        assert (
            check(health_pb2.HealthCheckRequest(), timeout=2).status == health_pb2.HealthCheckResponse.SERVING
        )
    finally:
        for watch in watches:
            watch.close()
        channel.close()


def test_calls_on_a_watched_channel_start_no_polling_thread(
    server: _HealthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the watch, grpc starts a thread for the first call after every idle moment."""
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    check = health_pb2_grpc.HealthStub(channel).Check
    started: list[str] = []
    original = threading.Thread.start

    def counting_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        original(thread)

    def calls_starting_threads() -> int:
        before = len(started)
        for _ in range(5):
            check.future(health_pb2.HealthCheckRequest(), timeout=2).result()
            time.sleep(0.05)  # idle between calls: the polling thread would end here
        return len(started) - before

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    assert calls_starting_threads() >= 5  # the premise: unwatched, each idle-then-call starts one
    watch = ChannelWatch(channel, "test")
    try:
        assert _wait_for(lambda: watch.status is not None)
        assert calls_starting_threads() == 0
    finally:
        watch.close()
        channel.close()


def test_a_watch_comes_back_after_the_service_restarts() -> None:
    first = _HealthServer()
    port = first.port
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    watch = ChannelWatch(channel, "test")
    try:
        assert _wait_for(lambda: watch.status == health_pb2.HealthCheckResponse.SERVING)
        first.stop()
        assert _wait_for(lambda: watch.status is None)
        second = _HealthServer(port)
        try:
            assert _wait_for(lambda: watch.status == health_pb2.HealthCheckResponse.SERVING, 15)
        finally:
            second.stop()
    finally:
        watch.close()
        channel.close()


def test_close_ends_the_watch_thread(server: _HealthServer) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    watch = ChannelWatch(channel, "closing")
    assert _wait_for(lambda: watch.status is not None)
    watch.close()
    assert _wait_for(lambda: not watch._thread.is_alive())
    channel.close()


def test_a_watch_ends_when_its_channel_is_closed_under_it(server: _HealthServer) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    watch = ChannelWatch(channel, "orphan")
    assert _wait_for(lambda: watch.status is not None)
    channel.close()
    assert _wait_for(lambda: not watch._thread.is_alive(), 15)
