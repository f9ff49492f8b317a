"""The JSON mapping as a client sees it over HTTP: the contract's fields in order, every one present, no value
as null, 64-bit integers as exact numbers, RFC 3339 UTC timestamps, and the documented schemas.
test_protojson.py covers the mapping itself, field kind by field kind."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest

from crm.common.v1 import money_pb2
from crm.contacts.v1 import contacts_pb2
from crm.sales.v1 import sales_pb2, sales_pb2_grpc

CONTACT_FIELDS = [field.name for field in contacts_pb2.Contact.DESCRIPTOR.fields]


def test_a_contact_has_every_contract_field_in_order(api) -> None:
    reply = api.post(
        "/api/v1/contacts",
        json={"first_name": "Ada", "last_name": "Lovelace", "email": api.new_email(), "phone": None},
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["Content-Type"] == "application/json"
    created = reply.json()
    assert list(created) == CONTACT_FIELDS  # etag and archived_at included
    api.assert_documented(created, "contacts.v1.Contact")
    # No phone, no company, not archived: null, not "" or absent.
    assert created["phone"] is None and created["company"] is None and created["archived_at"] is None
    fetched = api.get(f"/api/v1/contacts/{created['id']}")
    assert fetched.json() == created and list(fetched.json()) == CONTACT_FIELDS


def test_timestamps_are_rfc_3339_in_utc(api) -> None:
    before = datetime.now(UTC)
    created = api.create_contact()
    for name in ("created_at", "updated_at"):
        text = created[name]
        assert text.endswith("Z") and "T" in text and "+" not in text
        stamp = datetime.fromisoformat(text)
        assert stamp.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=5) <= stamp <= datetime.now(UTC) + timedelta(seconds=5)


def test_an_empty_string_and_null_are_both_no_value(api) -> None:
    created = api.create_contact(phone="", company=None)
    assert created["phone"] is None and created["company"] is None


def test_a_list_page_is_documented_and_its_last_cursor_null(api) -> None:
    api.create_contact()
    page = api.get("/api/v1/contacts", params={"limit": 200}).json()
    assert list(page) == ["items", "next_cursor"]
    api.assert_documented(page, "contacts.v1.ListContactsResponse")
    assert page["next_cursor"] is None
    assert all(list(item) == CONTACT_FIELDS for item in page["items"])


BIG = 2**53 + 1  # the first integer a float64 (a JavaScript number) cannot hold


class _RichSales(sales_pb2_grpc.SalesServiceServicer):
    def GetSalesSummary(self, request: Any, context: grpc.ServicerContext) -> sales_pb2.SalesSummary:
        return sales_pb2.SalesSummary(
            contact_id=request.contact_id,
            open_deals=3,
            open_pipeline_value=[
                money_pb2.Money(amount_minor=BIG, currency="EUR"),
                money_pb2.Money(amount_minor=-(2**63), currency="USD"),
            ],
        )


@pytest.fixture
def rich_sales(raw_server, own_gateway) -> Iterator[Any]:
    server = raw_server("sales", lambda s: sales_pb2_grpc.add_SalesServiceServicer_to_server(_RichSales(), s))
    client = own_gateway({"sales": f"127.0.0.1:{server.port}"}).client()
    yield client
    client.http.close()


def test_64_bit_money_stays_an_exact_json_number(rich_sales) -> None:
    contact = rich_sales.create_contact()
    reply = rich_sales.get(f"/api/v1/customers/{contact['id']}/360")
    assert reply.status_code == 200, reply.text
    assert f'"amount_minor":{BIG}' in reply.text.replace(" ", "")  # a number, not a string
    view = json.loads(reply.text)
    assert view["sales"]["open_pipeline_value"] == [
        {"amount_minor": BIG, "currency": "EUR"},
        {"amount_minor": -(2**63), "currency": "USD"},
    ]
    assert view["sales"]["won_deals"] == 0  # zero is a value, not null
    rich_sales.assert_documented(view, "Customer360")


def test_problems_have_their_own_media_type_and_documented_shape(api) -> None:
    reply = api.post("/api/v1/contacts", json={"first_name": 1})
    problem = api.assert_problem(reply, 422)
    api.assert_documented(problem, "ProblemDetails")
    reply = api.get("/api/v1/contacts/00000000-0000-4000-8000-000000000000")
    api.assert_documented(api.assert_problem(reply, 404), "ProblemDetails")


def test_concurrent_requests_each_get_their_own_body(api, gateway) -> None:
    """The views share one channel and encoder plan per process; answers must not cross."""
    contacts = [api.create_contact(first_name=f"N{i}") for i in range(6)]
    results: dict[str, Any] = {}

    def read(contact: dict[str, Any]) -> None:
        client = gateway.client(api.http.headers["Authorization"].split()[1])
        for _ in range(5):
            results.setdefault(contact["id"], []).append(
                client.get(f"/api/v1/contacts/{contact['id']}").json()
            )
        client.http.close()

    threads = [threading.Thread(target=read, args=(c,)) for c in contacts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for contact in contacts:
        assert results[contact["id"]] == [contact] * 5
