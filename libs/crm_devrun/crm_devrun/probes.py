"""Readiness checks for local processes."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from typing import TypeVar

import grpc
import pika
from grpc_health.v1 import health_pb2, health_pb2_grpc

T = TypeVar("T")


def grpc_serving(address: str, timeout: float = 0.5) -> bool:
    try:
        with grpc.insecure_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
            return reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def http_ok(url: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 (local URL we built)
            return 200 <= reply.status < 300
    except OSError:
        return False


def queues_exist(amqp_url: str, queues: list[str]) -> bool:
    """A worker is ready once its queues are declared: only then are published events kept for it."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    except pika.exceptions.AMQPError:
        return False
    try:
        for queue in queues:
            channel = connection.channel()
            try:
                channel.queue_declare(queue, passive=True)
            except pika.exceptions.ChannelClosedByBroker:
                return False
            channel.close()
        return True
    finally:
        connection.close()


def wait_until(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.1, what: str = "") -> T:
    """Poll until `check()` returns something truthy, and return it; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(interval)
