"""Helpers for tests that use the real RabbitMQ and PostgreSQL servers.

Every test gets its own vhost or database and removes it afterwards, so concurrent runs (several
engineers, CI) never see each other's queues or rows. The pytest plugin is `crm_platform.testing.fixtures`.
Fault tests stop brokers and databases only of their own: a private RabbitMQ node (`RabbitNode`) and a
TCP proxy before PostgreSQL (`TcpProxy`), never the machine's shared servers.
"""

from crm_platform.testing.postgres import (
    create_database,
    drop_database,
    postgres_admin_url,
    postgres_reachable,
)
from crm_platform.testing.rabbit import (
    amqp_url_for_vhost,
    close_connections,
    create_vhost,
    create_vhosts,
    delete_vhost,
    rabbitmq_reachable,
    start_broker,
    stop_broker,
    vhost_of,
)
from crm_platform.testing.rabbit_node import RabbitNode, RabbitNodeUnavailable, rabbit_node_available
from crm_platform.testing.tcp_proxy import TcpProxy

__all__ = [
    "RabbitNode",
    "RabbitNodeUnavailable",
    "TcpProxy",
    "amqp_url_for_vhost",
    "close_connections",
    "create_database",
    "create_vhost",
    "create_vhosts",
    "delete_vhost",
    "drop_database",
    "postgres_admin_url",
    "postgres_reachable",
    "rabbit_node_available",
    "rabbitmq_reachable",
    "start_broker",
    "stop_broker",
    "vhost_of",
]
