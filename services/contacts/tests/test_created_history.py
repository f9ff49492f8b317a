"""A new contact's history entry, read from its columns (store.created_fields, what batch creates and
imports record), is exactly what encoding its message gives (the repository's default)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from contacts import api, store
from crm.contacts.v1 import contacts_pb2
from crm_platform import protojson
from crm_platform.access import Ownership
from crm_platform.db import utcnow


def request(**fields: Any) -> contacts_pb2.CreateContactRequest:
    """A create request as the REST API decodes its JSON body."""
    message = contacts_pb2.CreateContactRequest()
    protojson.decode_into(fields, message)
    return message


REQUESTS = {
    "an import's row": request(
        first_name="First1", last_name="Last1", email="Bench-1@Example.com", phone="+44 20 7946 0001"
    ),
    "names and an email only": request(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
    "every part of the profile": request(
        first_name=" Zoë ",
        last_name="Ünal",
        email="zoe@example.com",
        company="Acme",
        emails=[{"address": "zoe@example.com"}, {"address": "Z@Home.example", "label": "home"}],
        phones=[
            {"number": "+49 30 1234567", "label": "work"},
            {"number": "+44 7911 123456", "label": "mobile", "primary": True},
        ],
        addresses=[{"street": "1 Main St", "city": "Berlin", "country": "de", "label": "work"}],
        social_profiles=[{"network": "Mastodon", "handle": "@zoe"}],
        job_title="CTO",
        preferred_channel="in_person",
        preferred_contact_time="mornings",
        language="de-ch",
        time_zone="europe/berlin",
        lead_source="fair",
        industry="software",
        occupation="engineer",
        birth_date="1990-02-03",
        region="BE",
        country="de",
        city="Berlin",
        important_dates=[{"kind": "anniversary", "date": "2015-06-01", "label": "joined"}],
        hobbies=["chess", " chess ", "go"],
        interests=["maths"],
        memberships=[{"name": "Chess club", "kind": "club", "since": "2020-01-01"}],
        tags=["VIP", "vip", "lead"],
        notes=" note ",
        external_id=" erp-1 ",
        custom_fields={"shoe_size": 42, "nickname": "Z", "flags": ["a", "b"], "nested": {"x": 1}},
    ),
}


def new_row(create: contacts_pb2.CreateContactRequest, ownership: Ownership | None) -> SimpleNamespace:
    """The row as Repository.create_many holds it after its insert."""
    new, profile = api.clean_create_request(create, "US")
    book = store.book_of(ownership.partner_account_id if ownership is not None else None)
    columns = store._new_contact_columns(new, ownership, profile, book)
    now = utcnow()
    defaults = {column.key: None for column in store.Contact.__table__.columns}
    return SimpleNamespace(**{**defaults, "version": 1, "created_at": now, "updated_at": now, **columns})


@pytest.mark.parametrize("name", sorted(REQUESTS))
@pytest.mark.parametrize(
    "ownership",
    [None, Ownership(owner_id="u1", team_id="t1", partner_account_id="p1")],
    ids=["none", "owned"],
)
def test_the_history_of_a_new_contact_is_its_encoded_message(name: str, ownership: Ownership | None) -> None:
    row = new_row(REQUESTS[name], ownership)
    assert store.created_fields(row) == store.contacts.created_fields_of_message(row)


def test_a_row_without_its_lists_or_with_unknown_names_is_told_as_its_message_tells_it() -> None:
    """Rows written before the profile (no emails list), a channel no longer known, entries missing keys
    or holding empty strings: each read as to_message reads it."""
    row = new_row(REQUESTS["names and an email only"], None)
    row.emails = None
    row.preferred_channel = "carrier_pigeon"
    row.addresses = [{"city": "Paris", "street": "", "label": "nowhere"}]
    row.custom_fields = {"count": 3}
    assert store.created_fields(row) == store.contacts.created_fields_of_message(row)
