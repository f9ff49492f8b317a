"""One trace id links the gateway request, the gRPC call, the publish and the consume."""

from __future__ import annotations

import secrets

from crm_devrun.probes import wait_until

SERVER, CLIENT, PRODUCER, CONSUMER = 2, 3, 4, 5  # OTLP SpanKind values


def test_one_trace_spans_gateway_contacts_broker_and_notifications(api, otlp_sink) -> None:
    trace_id = secrets.token_hex(16)
    reply = api.request(
        "POST",
        "/api/v1/contacts",
        {"first_name": "Trace", "last_name": "Me", "email": f"trace-{secrets.token_hex(4)}@example.com"},
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert reply.status == 201, reply.body

    def complete() -> set[tuple[str, int]] | None:
        # The publish span comes from whichever contacts process holds the relay lease (serve or worker).
        seen = {
            (s.service.removesuffix("-worker") if s.kind == PRODUCER else s.service, s.kind)
            for s in otlp_sink.trace(trace_id)
        }
        wanted = {
            ("gateway", SERVER),
            ("gateway", CLIENT),
            ("contacts", SERVER),
            ("contacts", PRODUCER),
            ("notifications-worker", CONSUMER),
        }
        return seen if wanted <= seen else None

    wait_until(complete, timeout=20, interval=0.25, what=f"all spans of trace {trace_id}")
