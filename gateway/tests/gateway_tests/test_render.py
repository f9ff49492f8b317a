"""Protobuf messages as REST JSON: fixed shape, numbers stay numbers, times are UTC ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime

from crm.common.v1 import money_pb2
from crm.contacts.v1 import contacts_pb2
from crm.sales.v1 import sales_pb2
from crm_platform.protobuf import timestamp
from gateway.models import Contact, SalesSummary
from gateway.render import contact_json, message_json


def test_money_keeps_integer_minor_units() -> None:
    summary = sales_pb2.SalesSummary(
        contact_id="c", open_pipeline_value=[money_pb2.Money(amount_minor=2**40 + 1, currency="EUR")]
    )
    rendered = message_json(summary)
    assert rendered["open_pipeline_value"] == [{"amount_minor": 2**40 + 1, "currency": "EUR"}]
    assert rendered["open_deals"] == 0  # defaults are present
    SalesSummary.model_validate(rendered)


def test_contact_times_are_utc_and_unknowns_are_null() -> None:
    stamp = timestamp(datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC))
    contact = contacts_pb2.Contact(
        id="c", first_name="A", last_name="B", email="a@b.co", created_at=stamp, updated_at=stamp
    )
    rendered = contact_json(contact)
    assert rendered["created_at"] == "2026-01-02T03:04:05.600000Z"
    assert rendered["phone"] is None and rendered["company"] is None
    Contact.model_validate(rendered)
