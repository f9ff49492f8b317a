"""Readiness checks for local processes."""

from __future__ import annotations

import urllib.request

import grpc
import pika
from grpc_health.v1 import health_pb2, health_pb2_grpc


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
