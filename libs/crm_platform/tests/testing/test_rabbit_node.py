"""A private RabbitMQ node: its own port and data, restartable with durable messages kept, always killed.
The shared broker keeps serving throughout."""

from __future__ import annotations

import time
from pathlib import Path

import pika
import pytest

from crm_platform.testing import rabbit
from crm_platform.testing.rabbit_node import RabbitNode, group_members, rabbit_node_available

QUEUE = "crm.private-node.durable"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory):
    why = rabbit_node_available()
    if why:
        pytest.skip(f"cannot run a private RabbitMQ node: {why}")
    with RabbitNode(tmp_path_factory.mktemp("rabbit-node")) as started:
        yield started


def publish_persistent(url: str, body: bytes) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(QUEUE, durable=True)
        channel.basic_publish("", QUEUE, body, pika.BasicProperties(delivery_mode=2))
    finally:
        connection.close()


def take(url: str) -> bytes | None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        _method, _properties, body = connection.channel().basic_get(QUEUE, auto_ack=True)
        return body
    finally:
        connection.close()


def test_the_node_is_private(node: RabbitNode) -> None:
    assert node.amqp_port != 5672 and node.name.startswith("crm-fault-")
    assert rabbit.rabbitmq_reachable(node.amqp_url)
    assert node.name in node.ctl("status", "--formatter", "json")
    assert not (Path.home() / ".erlang.cookie").exists() or Path.home() == Path("/var/lib/rabbitmq")


def test_stop_and_start_keep_durable_messages(node: RabbitNode) -> None:
    publish_persistent(node.amqp_url, b"kept over a restart")
    node.stop()
    assert not node.running and not rabbit.rabbitmq_reachable(node.amqp_url)
    assert rabbit.rabbitmq_reachable(), "the shared broker must not notice"
    node.start()
    assert take(node.amqp_url) == b"kept over a restart"


def test_a_killed_node_restarts_on_the_same_port_with_its_data(node: RabbitNode) -> None:
    publish_persistent(node.amqp_url, b"kept over a crash")
    port = node.amqp_port
    assert node.process is not None
    pid = node.process.pid
    node.kill()
    assert group_members(pid) == []  # the whole Erlang VM is gone, not only the script that started it
    node.start()
    assert node.amqp_port == port
    assert take(node.amqp_url) == b"kept over a crash"


def test_vhosts_on_the_node(node: RabbitNode) -> None:
    url = node.create_vhost("crm-private")
    assert rabbit.vhost_of(url) == "crm-private"
    assert rabbit.rabbitmq_reachable(url)


def test_the_node_dies_with_the_test_process(node: RabbitNode) -> None:
    """If the test run itself is killed, its watchdog kills the node: no broker is left on the machine."""
    assert node.process is not None and node._watchdog is not None
    pid = node.process.pid
    node._watchdog.close()  # what the kernel does to the pipe when the test process dies
    node._watchdog = None
    deadline = time.monotonic() + 30
    while group_members(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert group_members(pid) == []
    node.kill()  # reaps it; the module fixture still closes it
