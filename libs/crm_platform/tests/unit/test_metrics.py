"""Service metrics against real things: a gRPC server, the outbox in SQLite and PostgreSQL, RabbitMQ."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pika
import pytest
import requests
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData, insert

from crm.sales.v1 import sales_pb2, sales_pb2_grpc
from crm_platform import config
from crm_platform.db import make_engine
from crm_platform.errors import NotFound
from crm_platform.events.schema import messaging_tables
from crm_platform.grpc_client import open_channel
from crm_platform.grpc_server import GrpcServer
from crm_platform.listen_ports import free_port
from crm_platform.metrics.broker import QueueDepthCollector
from crm_platform.metrics.exposition import serve_metrics
from crm_platform.metrics.outbox import OutboxCollector
from crm_platform.metrics.rpc import RPC_HANDLED, RPC_SECONDS
from crm_platform.testing.callers import with_default_caller

SALES = "crm.sales.v1.SalesService"


class Sales(sales_pb2_grpc.SalesServiceServicer):
    def GetSalesSummary(self, request: Any, context: grpc.ServicerContext) -> sales_pb2.SalesSummary:
        if request.contact_id == "missing":
            raise NotFound("no such contact", resource_type="contact")
        if request.contact_id == "boom":
            raise RuntimeError("a bug")
        return sales_pb2.SalesSummary(contact_id=request.contact_id)


@pytest.fixture
def sales() -> Iterator[sales_pb2_grpc.SalesServiceStub]:
    def register(s: grpc.Server) -> list[str]:
        sales_pb2_grpc.add_SalesServiceServicer_to_server(Sales(), s)
        return [SALES]

    server = GrpcServer("sales", "127.0.0.1:0", register).start()
    channel = open_channel(f"127.0.0.1:{server.port}")
    yield sales_pb2_grpc.SalesServiceStub(with_default_caller(channel))
    channel.close()
    server.stop(0)


def handled(code: str) -> float:
    return RPC_HANDLED.labels(SALES, "GetSalesSummary", code)._value.get()


def test_rpc_calls_are_counted_by_status_and_timed(sales: sales_pb2_grpc.SalesServiceStub) -> None:
    before = {code: handled(code) for code in ("OK", "NOT_FOUND", "INTERNAL")}
    timed_before = RPC_SECONDS.labels(SALES, "GetSalesSummary")._sum.get()
    sales.GetSalesSummary(sales_pb2.GetSalesSummaryRequest(contact_id="c-1"))
    sales.GetSalesSummary(sales_pb2.GetSalesSummaryRequest(contact_id="c-2"))
    for contact_id, code in (("missing", grpc.StatusCode.NOT_FOUND), ("boom", grpc.StatusCode.INTERNAL)):
        with pytest.raises(grpc.RpcError) as caught:
            sales.GetSalesSummary(sales_pb2.GetSalesSummaryRequest(contact_id=contact_id))
        assert caught.value.code() == code
    assert handled("OK") - before["OK"] == 2
    assert handled("NOT_FOUND") - before["NOT_FOUND"] == 1
    assert handled("INTERNAL") - before["INTERNAL"] == 1
    assert RPC_SECONDS.labels(SALES, "GetSalesSummary")._sum.get() > timed_before


def test_a_server_refuses_calls_beyond_its_admission_limit() -> None:
    release = threading.Event()
    started = threading.Semaphore(0)

    class Slow(sales_pb2_grpc.SalesServiceServicer):
        def GetSalesSummary(self, request: Any, context: grpc.ServicerContext) -> sales_pb2.SalesSummary:
            started.release()
            release.wait(5)
            return sales_pb2.SalesSummary(contact_id=request.contact_id)

    def register(s: grpc.Server) -> list[str]:
        sales_pb2_grpc.add_SalesServiceServicer_to_server(Slow(), s)
        return [SALES]

    server = GrpcServer("sales", "127.0.0.1:0", register, max_workers=2, max_concurrent_rpcs=2).start()
    channel = open_channel(f"127.0.0.1:{server.port}")
    stub = sales_pb2_grpc.SalesServiceStub(with_default_caller(channel))
    try:
        running = [
            stub.GetSalesSummary.future(sales_pb2.GetSalesSummaryRequest(contact_id=str(i))) for i in range(2)
        ]
        assert started.acquire(timeout=5) and started.acquire(timeout=5), "both calls are running"
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetSalesSummary(sales_pb2.GetSalesSummaryRequest(contact_id="third"), timeout=2)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        release.set()
        assert [f.result().contact_id for f in running] == ["0", "1"]
    finally:
        release.set()
        channel.close()
        server.stop(0)


# --- the outbox collector --------------------------------------------------------------------------


def outbox_row(position: int, created_at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "aggregate_type": "contact",
        "aggregate_id": f"c-{position}",
        "sequence": 1,
        "exchange": "contacts.events",
        "routing_key": "contact_created",
        "payload": "{}",
        "headers": "{}",
        "created_at": created_at,
        "published_at": None,
        "parked_at": None,
        **extra,
    }


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
    }


def test_outbox_collector_reads_pending_oldest_age_and_parked(database_url: str) -> None:
    metadata = MetaData()
    tables = messaging_tables(metadata)
    engine = make_engine(database_url)
    metadata.create_all(engine)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(tables.outbox),
            [
                outbox_row(1, now - timedelta(seconds=30), published_at=now),  # done
                outbox_row(2, now - timedelta(seconds=20)),  # the oldest pending
                outbox_row(3, now - timedelta(seconds=5)),
                outbox_row(4, now - timedelta(seconds=90), parked_at=now - timedelta(seconds=60)),
            ],
        )
    registry = CollectorRegistry()
    registry.register(OutboxCollector(engine, tables, clock=lambda: now))
    try:
        found = samples(registry)
        assert found[("crm_outbox_pending", ())] == 2
        assert found[("crm_outbox_oldest_pending_age_seconds", ())] == pytest.approx(20)
        assert found[("crm_outbox_parked", ())] == 1
        assert found[("crm_outbox_collector_up", ())] == 1
    finally:
        engine.dispose()


def test_outbox_collector_answers_down_when_the_database_does_not(tmp_path: Any) -> None:
    tables = messaging_tables(MetaData())
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no outbox table: every query fails
    registry = CollectorRegistry()
    registry.register(OutboxCollector(engine, tables))
    found = samples(registry)
    assert found == {("crm_outbox_collector_up", ()): 0}
    engine.dispose()


# --- the broker collector --------------------------------------------------------------------------


def test_queue_depths_come_from_the_broker_and_are_cached(amqp_url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    for name in ("svc.a.x", "svc.a.x.dlq", "svc.b.y"):
        channel.queue_declare(name, durable=True)
    for _ in range(3):
        channel.basic_publish("", "svc.a.x", b"{}")
    channel.basic_publish("", "svc.a.x.dlq", b"{}")
    now = [0.0]
    collector = QueueDepthCollector(
        amqp_url, ["svc.a.x", "svc.b.y", "svc.never.declared"], clock=lambda: now[0]
    )
    registry = CollectorRegistry()
    registry.register(collector)
    try:
        found = samples(registry)
        assert found[("crm_broker_collector_up", ())] == 1
        assert found[("crm_queue_messages_ready", (("queue", "svc.a.x"),))] == 3
        assert found[("crm_queue_messages_ready", (("queue", "svc.b.y"),))] == 0
        assert found[("crm_dlq_messages", (("queue", "svc.a.x"),))] == 1
        # Missing queues are absent, not zero; b's DLQ was never declared either.
        assert ("crm_queue_messages_ready", (("queue", "svc.never.declared"),)) not in found
        assert ("crm_dlq_messages", (("queue", "svc.b.y"),)) not in found

        channel.basic_publish("", "svc.a.x", b"{}")
        now[0] = 1.0  # within the cache period: the broker is not asked again
        assert samples(registry)[("crm_queue_messages_ready", (("queue", "svc.a.x"),))] == 3
        now[0] = 10.0
        assert samples(registry)[("crm_queue_messages_ready", (("queue", "svc.a.x"),))] == 4
    finally:
        connection.close()


def test_queue_depths_fail_soft_when_the_broker_is_away() -> None:
    collector = QueueDepthCollector(f"amqp://guest:guest@127.0.0.1:{free_port()}/", ["svc.a.x"])
    registry = CollectorRegistry()
    registry.register(collector)
    found = samples(registry)
    assert found == {("crm_broker_collector_up", ()): 0}


# --- the endpoint --------------------------------------------------------------------------------


def test_serve_metrics_serves_the_registry_and_zero_disables_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    setting = config.metrics_port_setting("sales")
    assert setting.name == "SALES_METRICS_PORT" and setting.get({}) == config.METRICS_PORTS["sales"]
    assert config.metrics_port_setting("sales", "worker").name == "SALES_WORKER_METRICS_PORT"

    monkeypatch.setenv("SALES_METRICS_PORT", "0")
    assert serve_metrics(setting, registry=CollectorRegistry()) is None

    port = free_port()
    monkeypatch.setenv("SALES_METRICS_PORT", str(port))
    tables = messaging_tables(MetaData())
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    registry = CollectorRegistry()
    server = serve_metrics(setting, [OutboxCollector(engine, tables)], registry=registry)
    assert server is not None
    try:
        body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "crm_outbox_collector_up 0.0" in body
        # A second process on the same port logs and carries on without metrics.
        assert serve_metrics(setting, registry=CollectorRegistry()) is None
        # Two endpoints with the same collectors in one process do not collide.
        monkeypatch.setenv("SALES_METRICS_PORT", str(free_port()))
        again = serve_metrics(setting, [OutboxCollector(engine, tables)], registry=registry)
        assert again is not None
        again.shutdown()
        again.server_close()
    finally:
        server.shutdown()
        server.server_close()
        engine.dispose()
