"""A new company's history entry, read from its columns (companies.store.created_fields, what the batch
create of imports records), is exactly what encoding its message gives (the repository's default)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from contacts.companies import api, store
from crm.contacts.v1 import companies_pb2
from crm_platform import protojson
from crm_platform.access import Ownership
from crm_platform.db import utcnow


def request(**fields: Any) -> companies_pb2.CreateCompanyRequest:
    """A create request as the REST API decodes its JSON body."""
    message = companies_pb2.CreateCompanyRequest()
    protojson.decode_into(fields, message)
    return message


REQUESTS = {
    "an import's row": request(
        name="Company 1", domain="c1.example.com", address={"city": "City 1", "country": "GB"}
    ),
    "a name only": request(name="Acme"),
    "every field": request(
        name=" Analytical Engines ",
        domain="WWW.Engines.Example.",
        industry="machinery",
        size="1001_5000",
        address={
            "street": "1 Babbage Row",
            "city": "London",
            "region": "Greater London",
            "postal_code": "ec1a 1bb",
            "country": "gb",
        },
        parent_company_id="parent-1",
        website="https://engines.example",
        phone="+44 20 7946 0000",
        description=" difference ",
        external_id=" erp-1 ",
        custom_fields={"tier": "gold", "score": 4, "flags": ["a", "b"], "nested": {"x": 1}},
    ),
}


def new_row(create: companies_pb2.CreateCompanyRequest, ownership: Ownership | None) -> SimpleNamespace:
    """The row as Repository.create_many holds it after its insert."""
    values = protojson.encode(create.custom_fields) if create.HasField("custom_fields") else {}
    new = api._new_company(create, api._fields(create), ownership, values)
    now = utcnow()
    defaults = {column.key: None for column in store.Company.__table__.columns}
    columns = store._new_columns(new, new.book)
    return SimpleNamespace(**{**defaults, "version": 1, "created_at": now, "updated_at": now, **columns})


@pytest.mark.parametrize("name", sorted(REQUESTS))
@pytest.mark.parametrize(
    "ownership",
    [None, Ownership(owner_id="u1", team_id="t1", partner_account_id="p1")],
    ids=["none", "owned"],
)
def test_the_history_of_a_new_company_is_its_encoded_message(name: str, ownership: Ownership | None) -> None:
    row = new_row(REQUESTS[name], ownership)
    assert store.created_fields(row) == store.companies.created_fields_of_message(row)


def test_odd_stored_values_are_told_as_the_message_tells_them() -> None:
    """Empty strings where NULL is usual, a size no longer known, an address of one blank part, custom
    fields of a number stored as an int: each read as to_message reads it."""
    row = new_row(REQUESTS["a name only"], None)
    row.size = "enormous"
    row.industry = ""
    row.address_street, row.address_city = "", "Paris"
    row.custom_fields = {"count": 3}
    assert store.created_fields(row) == store.companies.created_fields_of_message(row)
    row.address_city, row.custom_fields, row.size = "", {}, "1_10"
    assert store.created_fields(row) == store.companies.created_fields_of_message(row)
