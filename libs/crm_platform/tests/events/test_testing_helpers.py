"""The shared test fixtures hand out working, isolated servers."""

from __future__ import annotations

import secrets

import pika
import pytest
from sqlalchemy import text

from crm_platform.db import make_engine
from crm_platform.testing import amqp_url_for_vhost, create_vhosts, delete_vhost, rabbitmq_reachable


def test_amqp_url_for_vhost_encodes_the_name() -> None:
    assert amqp_url_for_vhost("/", "amqp://u:p@h:5672/") == "amqp://u:p@h:5672/%2F"
    assert amqp_url_for_vhost("a b", "amqp://u:p@h:5672/x") == "amqp://u:p@h:5672/a%20b"


def test_dead_port_is_unreachable() -> None:
    assert not rabbitmq_reachable("amqp://guest:guest@127.0.0.1:1/", timeout=0.5)


def test_amqp_url_is_a_usable_private_vhost(amqp_url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.queue_declare("probe", durable=True)
    finally:
        connection.close()


def test_database_url_accepts_ddl_and_rows(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            conn.execute(text("INSERT INTO probe (id) VALUES (1)"))
            assert conn.execute(text("SELECT count(*) FROM probe")).scalar_one() == 1
    finally:
        engine.dispose()


def test_create_vhosts_makes_usable_vhosts_in_one_go() -> None:
    if not rabbitmq_reachable():
        pytest.skip("RabbitMQ is not reachable")
    names = [f"crm_test_batch_{secrets.token_hex(4)}" for _ in range(2)]
    create_vhosts(names)
    try:
        assert all(rabbitmq_reachable(amqp_url_for_vhost(name)) for name in names)
    finally:
        for name in names:
            delete_vhost(name)
    assert not rabbitmq_reachable(amqp_url_for_vhost(names[0]))
