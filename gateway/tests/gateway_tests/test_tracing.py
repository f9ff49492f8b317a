"""The HTTP request span is the parent of the gRPC client spans it causes, and joins the caller's trace."""

from __future__ import annotations

import secrets

import pytest
from crm_devrun.probes import wait_until
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind


@pytest.fixture
def spans(gateway, span_exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    # The gateway app installed the SDK provider (telemetry.setup in create_app) before we listen to it.
    return span_exporter


def test_request_span_parents_the_grpc_client_spans(api, spans) -> None:
    trace_id = secrets.token_hex(16)
    contact = api.create_contact()
    reply = api.get(
        f"/api/v1/customers/{contact['id']}/360",
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert reply.status_code == 200
    expected = {
        "/crm.contacts.v1.ContactOverviewService/GetContactOverview",
        "/crm.sales.v1.SalesService/GetSalesSummary",
        "/crm.marketing.v1.MarketingService/GetMarketingSummary",
        "/crm.support.v1.SupportService/GetSupportSummary",
        "/crm.notifications.v1.NotificationsService/ListNotifications",
    }

    def in_trace() -> list[ReadableSpan]:
        return [s for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id]

    # A call's client span ends in gRPC's done-callback, which may run just after the view was answered.
    wait_until(
        lambda: {s.name for s in in_trace() if s.kind == SpanKind.CLIENT} >= expected,
        timeout=5,
        interval=0.05,
        what="every section's client span finished",
    )
    [server] = [s for s in in_trace() if s.kind == SpanKind.SERVER and s.name.startswith("GET")]
    clients = [s for s in in_trace() if s.kind == SpanKind.CLIENT]
    assert all(s.parent is not None and s.parent.span_id == server.context.span_id for s in clients)


def test_each_service_continues_the_trace_in_a_server_span_with_its_status(api, spans) -> None:
    """The chassis' server interceptor: a SERVER span per call, child of the gateway's CLIENT span, named
    and attributed as OpenTelemetry's gRPC instrumentation names them, with the status the caller got."""
    trace_id = secrets.token_hex(16)
    contact = api.create_contact()
    traceparent = {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
    assert api.get(f"/api/v1/customers/{contact['id']}/360", headers=traceparent).status_code == 200
    missing_trace = secrets.token_hex(16)
    missing = api.get(
        "/api/v1/contacts/00000000-0000-4000-8000-000000000000",
        headers={"traceparent": f"00-{missing_trace}-{secrets.token_hex(8)}-01"},
    )
    assert missing.status_code == 404
    finished = spans.get_finished_spans()
    in_trace = [s for s in finished if format(s.context.trace_id, "032x") == trace_id]
    clients = {s.context.span_id: s for s in in_trace if s.kind == SpanKind.CLIENT}
    servers = [s for s in in_trace if s.kind == SpanKind.SERVER and s.name.startswith("crm.")]
    assert {s.name for s in servers} >= {
        "crm.contacts.v1.ContactOverviewService/GetContactOverview",
        "crm.sales.v1.SalesService/GetSalesSummary",
        "crm.notifications.v1.NotificationsService/ListNotifications",
    }
    for server in servers:
        assert server.parent is not None and server.parent.span_id in clients, server.name
        assert "/" + server.name == clients[server.parent.span_id].name
        assert server.attributes["rpc.system"] == "grpc"
        assert server.attributes["rpc.grpc.status_code"] == 0
    [not_found] = [
        s
        for s in finished
        if format(s.context.trace_id, "032x") == missing_trace
        and s.kind == SpanKind.SERVER
        and s.name == "crm.contacts.v1.ContactsService/GetContact"
    ]
    assert not_found.attributes["rpc.grpc.status_code"] == 5  # NOT_FOUND
    assert not not_found.status.is_ok
