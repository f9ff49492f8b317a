"""Sales, marketing and support answer their summary contract from their own databases."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from crm_platform.grpc_server import GrpcServer
from crm_platform.service import open_runtime
from crm_platform.testing.callers import with_default_caller

SUMMARY_SERVICES = ("sales", "marketing", "support")


@pytest.fixture(params=SUMMARY_SERVICES)
def summary_call(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[object, object]]:
    service = request.param
    title = service.title()
    package, stub_name = f"crm.{service}.v1", f"{title}Service"
    method, request_name = f"Get{title}Summary", f"Get{title}SummaryRequest"
    definition = importlib.import_module(f"{service}.main").DEFINITION
    api = importlib.import_module(f"{service}.api")
    pb2 = importlib.import_module(f"{package}.{service}_pb2")
    pb2_grpc = importlib.import_module(f"{package}.{service}_pb2_grpc")
    runtime = open_runtime(definition, f"sqlite:///{tmp_path / service}.db")
    server = GrpcServer(service, "127.0.0.1:0", lambda s: api.register(s, runtime)).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    stub = getattr(pb2_grpc, f"{stub_name}Stub")(with_default_caller(channel))
    yield getattr(stub, method), getattr(pb2, request_name)
    channel.close()
    server.stop(0)
    runtime.engine.dispose()


def test_summary_of_a_contact_with_no_records_is_empty(summary_call) -> None:
    call, request_type = summary_call
    summary = call(request_type(contact_id="c-1"), timeout=5)
    assert summary.contact_id == "c-1"
    assert all(
        value in (0, []) or list(value) == []
        for field, value in summary.ListFields()
        if field.name != "contact_id"
    )


def test_summary_without_contact_id_is_invalid_argument(summary_call) -> None:
    call, request_type = summary_call
    with pytest.raises(grpc.RpcError) as raised:
        call(request_type(contact_id="  "), timeout=5)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_health_and_reflection_are_served(tmp_path: Path) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    import sales.api
    import sales.main

    runtime = open_runtime(sales.main.DEFINITION, f"sqlite:///{tmp_path / 'sales.db'}")
    server = GrpcServer("sales", "127.0.0.1:0", lambda s: sales.api.register(s, runtime)).start()
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="crm.sales.v1.SalesService"), timeout=5
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        replies = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        names = {s.name for reply in replies for s in reply.list_services_response.service}
        assert {"crm.sales.v1.SalesService", "grpc.health.v1.Health"} <= names
        channel.close()
    finally:
        server.stop(0)
        runtime.engine.dispose()
