"""The HTTP request span is the parent of the gRPC client spans it causes, and joins the caller's trace."""

from __future__ import annotations

import secrets

import pytest
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
    in_trace = [s for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id]
    [server] = [s for s in in_trace if s.kind == SpanKind.SERVER and s.name.startswith("GET")]
    clients = [s for s in in_trace if s.kind == SpanKind.CLIENT]
    assert {s.name for s in clients} >= {
        "/crm.contacts.v1.ContactsService/GetContact",
        "/crm.sales.v1.SalesService/GetSalesSummary",
        "/crm.marketing.v1.MarketingService/GetMarketingSummary",
        "/crm.support.v1.SupportService/GetSupportSummary",
        "/crm.notifications.v1.NotificationsService/ListNotifications",
    }
    assert all(s.parent is not None and s.parent.span_id == server.context.span_id for s in clients)
