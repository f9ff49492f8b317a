"""Fault tests run the platform against a RabbitMQ node of their own, which they stop, kill and restart;
the machine's shared broker (everyone's) is never touched. `platform` here overrides the e2e one."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from crm_platform.testing import RabbitNode, rabbit_node_available


@pytest.fixture(scope="session")
def rabbit_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitNode]:
    """A private broker node for the session (own name, ports and data); killed at the end whatever
    happened. Tests may stop/kill/start it but must leave it running."""
    why = rabbit_node_available()
    if why:
        pytest.fail(f"fault tests need a private RabbitMQ node and this machine cannot run one: {why}")
    node = RabbitNode(tmp_path_factory.mktemp("rabbit-node"))
    try:
        node.start()
        yield node
    finally:
        node.close()


@pytest.fixture(scope="session")
def platform(
    tmp_path_factory: pytest.TempPathFactory,
    rabbit_node: RabbitNode,
    launch_platform: Callable[..., object],
    otlp_sink: object,
) -> Iterator[object]:
    """The whole platform on SQLite, its events on the private node."""
    running = launch_platform(tmp_path_factory.mktemp("fault-platform"), rabbit_node.amqp_url, otlp_sink)
    yield running
    running.supervisor.stop()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _node_left_running(rabbit_node: RabbitNode) -> Iterator[None]:
    """A test that fails between stopping and restarting the node must not break the next ones."""
    yield
    if not rabbit_node.running:
        rabbit_node.start()
