"""One trace from the code that records an event, through the relay's publish, to the handler."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from crm_platform.db import transaction
from crm_platform.events import Event, EventConsumer, install_wakeup, record_event

# Each test event is about its own aggregate unless a test says otherwise.
AGG = {"aggregate_type": "contact", "aggregate_id": "c1"}


# The database plays no part in what this checks; SQLite alone keeps the suite quick.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_traceparent_links_request_publish_and_handler(
    db, amqp_url, start_relay, run_consumer, wait_for, span_exporter
):
    handler_spans: list[trace.SpanContext] = []

    def handler(session, event: Event) -> None:
        handler_spans.append(trace.get_current_span().get_span_context())

    consumer = EventConsumer(amqp_url, db.factory, db.tables.inbox, service="sales", retry_delays=[0.1])
    queue = consumer.subscribe("contacts", "contact_created", handler)
    run_consumer(consumer)
    install_wakeup(db.factory, start_relay(amqp_url, sweep_interval=0.1))

    tracer = trace.get_tracer("test")
    with (
        tracer.start_as_current_span("POST /api/v1/contacts") as request_span,
        transaction(db.factory) as session,
    ):
        event_id = record_event(
            session, db.tables, source="contacts", event_type="contact_created", **AGG, payload={}
        )
    request = request_span.get_span_context()

    def spans_of_the_trace() -> dict:
        return {
            s.name: s for s in span_exporter.get_finished_spans() if s.context.trace_id == request.trace_id
        }

    # Spans are exported when they end: the consumer's after its ack, and the producer's after the
    # confirm, which can come after the consumer already has the message.
    expected = {"contacts.events publish", f"{queue} process"}
    wait_for(lambda: expected <= set(spans_of_the_trace()), what="publish and process spans to end")
    spans = spans_of_the_trace()
    publish = spans["contacts.events publish"]
    process = spans[f"{queue} process"]
    assert publish.kind == trace.SpanKind.PRODUCER
    assert publish.parent.span_id == request.span_id
    assert publish.attributes["messaging.system"] == "rabbitmq"
    assert publish.attributes["messaging.destination.name"] == "contacts.events"
    assert publish.attributes["messaging.rabbitmq.destination.routing_key"] == "contact_created"
    assert publish.attributes["messaging.message.id"] == event_id
    assert process.kind == trace.SpanKind.CONSUMER
    assert process.parent.span_id == publish.context.span_id
    assert handler_spans[0].span_id == process.context.span_id
