"""Reading incoming messages: what counts as one of our events and what is malformed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pika
import pytest

from crm_platform.events import MalformedEvent
from crm_platform.events.wire import cloudevent_headers, decode_event, encode_payload, message_properties


def _props(**headers) -> pika.BasicProperties:
    base = {"ce-id": "e1", "ce-type": "deal_won"}
    return pika.BasicProperties(content_type="application/json", headers={**base, **headers})


def test_round_trip_of_headers_and_body() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    headers = cloudevent_headers(
        event_id="e1",
        event_type="deal_won",
        service="sales",
        time=when,
        version=2,
        aggregate_type="deal",
        aggregate_id="d1",
        sequence=7,
    )
    body = encode_payload({"amount": 1200, "currency": "EUR", "name": "Zoë"}).encode()
    event = decode_event(message_properties("e1", headers), body)
    assert (event.id, event.type, event.source, event.version, event.time) == (
        "e1",
        "deal_won",
        "crm/sales",
        2,
        when,
    )
    assert event.data == {"amount": 1200, "currency": "EUR", "name": "Zoë"}
    assert (event.aggregate_type, event.aggregate_id, event.sequence) == ("deal", "d1", 7)
    assert headers["ce-subject"] == "deal/d1"
    assert headers["ce-dataschema"] == "urn:crm:events:deal_won:v2"


@pytest.mark.parametrize(
    ("properties", "body", "reason"),
    [
        (_props(), b"{not json", "not JSON"),
        (_props(), b"\xff\xfe", "not JSON"),
        (_props(), json.dumps([1, 2]).encode(), "not an object"),
        (pika.BasicProperties(headers={"ce-type": "deal_won"}), b"{}", "ce-id"),
        (pika.BasicProperties(), b"{}", "ce-id"),
        (_props(**{"ce-time": "yesterday"}), b"{}", "ISO 8601"),
        (_props(**{"ce-aggregateid": "d1", "ce-sequence": "1"}), b"{}", "go together"),
        (
            _props(**{"ce-aggregatetype": "deal", "ce-aggregateid": "d1", "ce-sequence": "0"}),
            b"{}",
            "positive",
        ),
        (
            _props(**{"ce-aggregatetype": "deal", "ce-aggregateid": "d1", "ce-sequence": "x"}),
            b"{}",
            "positive",
        ),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(properties, body, reason) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        decode_event(properties, body)


def test_payload_must_be_a_json_object() -> None:
    with pytest.raises(TypeError):
        encode_payload(["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encode_payload({"when": datetime.now(UTC)})
