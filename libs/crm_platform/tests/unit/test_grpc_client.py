"""open_channel against a real server: calls work, carry a default deadline, and are traced."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from crm.sales.v1 import sales_pb2, sales_pb2_grpc
from crm_platform.access import CallerContext
from crm_platform.access.context import current_caller
from crm_platform.grpc_client import Caller, open_channel
from crm_platform.grpc_server import GrpcServer
from crm_platform.testing.callers import caller as caller_context
from crm_platform.testing.callers import caller_metadata, signed_context


class SlowSales(sales_pb2_grpc.SalesServiceServicer):
    def __init__(self) -> None:
        self.release = threading.Event()
        self.seen_caller: CallerContext | None = None

    def GetSalesSummary(self, request: Any, context: grpc.ServicerContext) -> sales_pb2.SalesSummary:
        self.seen_caller = current_caller()
        if request.contact_id == "slow":
            self.release.wait(5)
        return sales_pb2.SalesSummary(contact_id=request.contact_id)


@pytest.fixture
def server() -> Iterator[tuple[SlowSales, int]]:
    servicer = SlowSales()

    def register(s: grpc.Server) -> list[str]:
        sales_pb2_grpc.add_SalesServiceServicer_to_server(servicer, s)
        return ["crm.sales.v1.SalesService"]

    running = GrpcServer("sales", "127.0.0.1:0", register).start()
    yield servicer, running.port
    servicer.release.set()
    running.stop(0)


def test_calls_pass_the_caller_and_are_traced(
    server: tuple[SlowSales, int], span_exporter: InMemorySpanExporter
) -> None:
    servicer, port = server
    stub = sales_pb2_grpc.SalesServiceStub(open_channel(f"127.0.0.1:{port}"))
    caller = Caller("u-1", roles=("admin",), context=signed_context(caller_context("u-1", "admin")))
    reply = stub.GetSalesSummary(
        sales_pb2.GetSalesSummaryRequest(contact_id="c-1"), metadata=caller.metadata()
    )
    assert reply.contact_id == "c-1"
    assert servicer.seen_caller is not None and servicer.seen_caller.subject == "u-1"
    assert any(span.kind == trace.SpanKind.CLIENT for span in span_exporter.get_finished_spans())


def test_a_call_without_a_deadline_gets_the_default_one(server: tuple[SlowSales, int]) -> None:
    _servicer, port = server
    stub = sales_pb2_grpc.SalesServiceStub(open_channel(f"127.0.0.1:{port}", default_deadline=0.3))
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetSalesSummary(sales_pb2.GetSalesSummaryRequest(contact_id="slow"), metadata=caller_metadata())
    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
