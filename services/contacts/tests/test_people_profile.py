"""The people profile over a real contacts server, on SQLite and PostgreSQL: every field round-trips
through Create, Get, List and Update (a repeated field replaced whole), the primary email and phone stay
in step with `email` and `phone`, phones are stored in E.164 and shown formatted, each invalid value is
INVALID_ARGUMENT naming its field, every email of a contact is unique in its book, history and events
carry the profile, and lists filter and order by the segmentation fields."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import select, text

from contacts import api, store
from contacts.main import DEFINITION
from contacts.people.domain import canonical_language, canonical_time_zone
from crm.common.v1 import history_pb2
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform import migrations, protojson
from crm_platform.access import CallerContext, CallerContextSigner, CallerContextVerifier, builtin_rights
from crm_platform.access.context import CallerContextCheck
from crm_platform.config import ConfigError
from crm_platform.db import make_engine
from crm_platform.errors import details_from, field_errors_from
from crm_platform.grpc_server import GrpcServer
from crm_platform.service import Runtime

PROFILE: dict[str, Any] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "Ada@Example.com",
    "phone": "+44 20 7946 0000",
    "company": "Analytical Engines",
    "emails": [
        {"address": "ada@example.com", "label": "work", "primary": True},
        {"address": "ADA@home.example", "label": "home", "primary": False},
    ],
    "phones": [
        {"number": "+44 20 7946 0000", "label": "work", "primary": True},
        {"number": "(202) 555-0125", "label": "mobile", "primary": False},
    ],
    "addresses": [
        {
            "street": "12 St James's Square",
            "city": "London",
            "region": "Greater London",
            "postal_code": "sw1y 4jh",
            "country": "gb",
            "label": "work",
            "primary": True,
        },
        {"city": "Ockham", "country": "GB", "label": "home"},
    ],
    "social_profiles": [
        {"network": "LinkedIn", "handle": "ada", "url": "https://www.linkedin.com/in/ada"},
        {"network": "github", "handle": "@ada"},
    ],
    "job_title": "Analyst",
    "preferred_channel": "email",
    "preferred_contact_time": "weekday mornings",
    "language": "en-gb",
    "time_zone": "europe/london",
    "lead_source": "referral",
    "industry": "Computing",
    "occupation": "Mathematician",
    "birth_date": "1815-12-10",
    "region": "Greater London",
    "country": "gb",
    "city": "London",
    "important_dates": [
        {"kind": "anniversary", "date": "1835-07-08", "label": "Wedding"},
        {"kind": "child_birthday", "date": "1836-05-12", "label": "Byron's birthday"},
    ],
    "hobbies": ["horse riding", " music "],
    "interests": ["mathematics", "poetical science"],
    "memberships": [
        {"name": "Royal Society", "kind": "association", "member_number": "RS-1", "since": "1840-01-01"},
        {"name": "Cafe Club", "kind": "loyalty_programme"},
    ],
    "tags": ["VIP", "vip", " Engines "],
    "notes": "Met at Babbage's soirée.\nWrites the first program.",
}

# What the service stores and shows for PROFILE (JSON names, as REST clients see it).
EXPECTED: dict[str, Any] = {
    **PROFILE,
    "email": "ada@example.com",
    "phone": "+442079460000",
    "emails": [
        {"address": "ada@example.com", "label": "work", "primary": True},
        {"address": "ada@home.example", "label": "home", "primary": False},
    ],
    "phones": [
        {"number": "+442079460000", "formatted": "+44 20 7946 0000", "label": "work", "primary": True},
        {"number": "+12025550125", "formatted": "+1 202-555-0125", "label": "mobile", "primary": False},
    ],
    "addresses": [
        {
            "street": "12 St James's Square",
            "city": "London",
            "region": "Greater London",
            "postal_code": "SW1Y 4JH",
            "country": "GB",
            "label": "work",
            "primary": True,
        },
        {
            "street": None,
            "city": "Ockham",
            "region": None,
            "postal_code": None,
            "country": "GB",
            "label": "home",
            "primary": False,
        },
    ],
    "social_profiles": [
        {"network": "linkedin", "handle": "ada", "url": "https://www.linkedin.com/in/ada"},
        {"network": "github", "handle": "@ada", "url": None},
    ],
    "language": "en-GB",
    "time_zone": "Europe/London",
    "country": "GB",
    "hobbies": ["horse riding", "music"],
    "memberships": [
        {"name": "Royal Society", "kind": "association", "member_number": "RS-1", "since": "1840-01-01"},
        {"name": "Cafe Club", "kind": "loyalty_programme", "member_number": None, "since": None},
    ],
    "tags": ["vip", "engines"],
    "notes": "Met at Babbage's soirée.\nWrites the first program.",
}


def _request(**fields: Any) -> contacts_pb2.CreateContactRequest:
    request = contacts_pb2.CreateContactRequest()
    protojson.decode_into(fields, request)
    return request


def _json(message: Any) -> dict[str, Any]:
    return protojson.encode(message)


def _profile_of(contact: contacts_pb2.Contact) -> dict[str, Any]:
    shown = _json(contact)
    return {name: shown[name] for name in EXPECTED}


def _create(client: Any, **fields: Any) -> contacts_pb2.Contact:
    body = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", **fields}
    return client.stub.CreateContact(_request(**body), metadata=client.metadata(), timeout=10)


def _update(client: Any, contact_id: str, **fields: Any) -> contacts_pb2.Contact:
    contact = contacts_pb2.Contact()
    protojson.decode_into({**fields, "id": contact_id}, contact)
    request = contacts_pb2.UpdateContactRequest(contact=contact)
    request.update_mask.paths.extend(fields)
    return client.stub.UpdateContact(request, metadata=client.metadata(), timeout=10)


def _refused(call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def _invalid(call: Callable[[], Any]) -> dict[str, str]:
    error = _refused(call)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    return field_errors_from(error)


# --- round trips ------------------------------------------------------------------------------------


def test_the_whole_profile_round_trips_through_create_get_and_list(client) -> None:
    created = client.stub.CreateContact(_request(**PROFILE), metadata=client.metadata(), timeout=10)
    assert _profile_of(created) == EXPECTED
    assert client.get(created.id) == created
    [listed] = client.list().items
    assert listed == created


def test_every_profile_field_changes_alone_by_update_mask(client) -> None:
    created = _create(client, company="Analytical Engines")
    for name, value in EXPECTED.items():
        if name in {"first_name", "last_name", "email", "company"}:
            continue
        updated = _update(client, created.id, **{name: PROFILE[name]})
        assert _json(updated)[name] == value, name
        assert _json(client.get(created.id))[name] == value, name
    assert _profile_of(client.get(created.id)) == EXPECTED


def test_a_repeated_field_is_replaced_whole_and_unmasked_fields_keep_their_values(client) -> None:
    created = client.stub.CreateContact(_request(**PROFILE), metadata=client.metadata(), timeout=10)
    updated = _update(client, created.id, tags=["new"], hobbies=[])
    assert list(updated.tags) == ["new"] and list(updated.hobbies) == []
    assert list(updated.interests) == ["mathematics", "poetical science"]  # not masked
    assert _json(updated)["addresses"] == EXPECTED["addresses"]
    cleared = _update(client, created.id, addresses=[], country=None, birth_date=None, preferred_channel=None)
    assert list(cleared.addresses) == [] and cleared.country == "" and cleared.birth_date == ""
    assert cleared.preferred_channel == contacts_pb2.CONTACT_CHANNEL_UNSPECIFIED


# --- primary email and phone ------------------------------------------------------------------------


def test_email_is_the_primary_of_emails_whichever_is_written(client) -> None:
    created = _create(
        client,
        email="ada@example.com",
        emails=[
            {"address": "ada@home.example", "label": "home"},
            {"address": "ada@example.com", "primary": True},
        ],
    )
    # The primary comes first, `email` is its address.
    assert [(e.address, e.primary) for e in created.emails] == [
        ("ada@example.com", True),
        ("ada@home.example", False),
    ]
    # Writing `email` replaces the primary entry's address, keeping its label.
    replaced = _update(client, created.id, email="ada@lovelace.org")
    assert replaced.email == "ada@lovelace.org"
    assert [(e.address, e.primary) for e in replaced.emails] == [
        ("ada@lovelace.org", True),
        ("ada@home.example", False),
    ]
    # Writing `email` with an address the list has makes that entry the primary.
    promoted = _update(client, created.id, email="ADA@home.example")
    assert promoted.email == "ada@home.example"
    assert [(e.address, e.primary, e.label) for e in promoted.emails] == [
        ("ada@home.example", True, contacts_pb2.CONTACT_LABEL_HOME),
        ("ada@lovelace.org", False, contacts_pb2.CONTACT_LABEL_UNSPECIFIED),
    ]
    # Writing `emails` moves `email` to the list's primary (none marked: the first).
    listed = _update(
        client, created.id, emails=[{"address": "work@lovelace.org"}, {"address": "x@lovelace.org"}]
    )
    assert listed.email == "work@lovelace.org"
    assert [(e.address, e.primary) for e in listed.emails] == [
        ("work@lovelace.org", True),
        ("x@lovelace.org", False),
    ]
    # A round trip of the whole contact with a new primary in the list and the old `email`: the list wins.
    moved = _update(
        client,
        created.id,
        email="work@lovelace.org",
        emails=[{"address": "work@lovelace.org"}, {"address": "x@lovelace.org", "primary": True}],
    )
    assert moved.email == "x@lovelace.org"
    # An emptied list keeps just `email`.
    emptied = _update(client, created.id, emails=[])
    assert [(e.address, e.primary) for e in emptied.emails] == [("x@lovelace.org", True)]


def test_phones_are_stored_in_e164_shown_formatted_and_phone_is_the_primary(client) -> None:
    created = _create(client, phone="(202) 555-0125")  # a national number: the default region's (US)
    assert created.phone == "+12025550125"
    assert [(p.number, p.formatted, p.primary) for p in created.phones] == [
        ("+12025550125", "+1 202-555-0125", True)
    ]
    both = _update(
        client,
        created.id,
        phones=[{"number": "+49 30 1234567", "label": "work"}, {"number": "+12025550125", "primary": True}],
    )
    assert both.phone == "+12025550125"
    assert [(p.number, p.formatted, p.primary) for p in both.phones] == [
        ("+12025550125", "+1 202-555-0125", True),
        ("+49301234567", "+49 30 1234567", False),
    ]
    replaced = _update(client, created.id, phone="+44 20 7946 0000")
    assert replaced.phone == "+442079460000"
    assert [p.number for p in replaced.phones] == ["+442079460000", "+49301234567"]
    # An emptied `phone` removes the primary number; the next one becomes primary.
    removed = _update(client, created.id, phone="")
    assert removed.phone == "+49301234567"
    assert [(p.number, p.primary) for p in removed.phones] == [("+49301234567", True)]
    assert _update(client, created.id, phone="").phone == ""
    assert list(client.get(created.id).phones) == []


def test_the_default_phone_region_is_a_setting(monkeypatch) -> None:
    monkeypatch.setenv("CONTACTS_DEFAULT_PHONE_REGION", "de")
    assert api.DEFAULT_PHONE_REGION.get() == "DE"
    monkeypatch.setenv("CONTACTS_DEFAULT_PHONE_REGION", "XX")
    with pytest.raises(ConfigError, match="CONTACTS_DEFAULT_PHONE_REGION"):
        api.DEFAULT_PHONE_REGION.get()


# --- invalid values -----------------------------------------------------------------------------------

TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "123"}, "phone"),
        ({"phones": [{"number": "+12025550125"}, {"number": "555"}]}, "phones[1].number"),
        ({"phones": [{"number": "+1 (555) 010-9999-0000"}]}, "phones[0].number"),
        ({"phones": [{"number": ""}]}, "phones[0].number"),
        ({"phones": [{"number": "+12025550125"}, {"number": "(202) 555-0125"}]}, "phones[1]"),
        (
            {
                "phones": [
                    {"number": "+12025550125", "primary": True},
                    {"number": "+442079460000", "primary": True},
                ]
            },
            "phones[1].primary",
        ),
        ({"emails": [{"address": "a@example.com"}, {"address": "not-an-email"}]}, "emails[1].address"),
        ({"emails": [{"address": "a@example.com"}, {"address": "A@example.com"}]}, "emails[1]"),
        (
            {
                "emails": [
                    {"address": "a@example.com", "primary": True},
                    {"address": "b@example.com", "primary": True},
                ]
            },
            "emails[1].primary",
        ),
        ({"addresses": [{"city": "Berlin", "country": "XX"}]}, "addresses[0].country"),
        ({"addresses": [{"city": "Berlin", "country": "D"}]}, "addresses[0].country"),
        ({"addresses": [{"label": "home"}]}, "addresses[0]"),
        (
            {"addresses": [{"city": "A", "primary": True}, {"city": "B", "primary": True}]},
            "addresses[1].primary",
        ),
        ({"country": "XX"}, "country"),
        ({"country": "Germany"}, "country"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"language": "en-US-US"}, "language"),
        ({"language": "not a tag"}, "language"),
        ({"birth_date": TOMORROW}, "birth_date"),
        ({"birth_date": "2021-02-30"}, "birth_date"),
        ({"birth_date": "10/12/1815"}, "birth_date"),
        ({"important_dates": [{"kind": "birthday", "date": "2021-13-01"}]}, "important_dates[0].date"),
        ({"important_dates": [{"kind": "birthday", "date": ""}]}, "important_dates[0].date"),
        ({"memberships": [{"name": "Club", "since": TOMORROW}]}, "memberships[0].since"),
        ({"memberships": [{"name": "  "}]}, "memberships[0].name"),
        ({"social_profiles": [{"network": "x"}]}, "social_profiles[0].handle"),
        ({"social_profiles": [{"network": "x", "url": "ftp://example.com/ada"}]}, "social_profiles[0].url"),
        ({"social_profiles": [{"handle": "ada"}]}, "social_profiles[0].network"),
        ({"tags": ["x" * 51]}, "tags[0]"),
        ({"hobbies": ["line\nbreak"]}, "hobbies[0]"),
        ({"job_title": "x" * 201}, "job_title"),
        ({"notes": "x" * 10001}, "notes"),
    ],
)
def test_each_invalid_value_is_refused_naming_its_field(client, fields: dict[str, Any], field: str) -> None:
    assert field in _invalid(lambda: _create(client, **fields))
    created = _create(client, email="valid@example.com")
    assert f"contact.{field}" in _invalid(lambda: _update(client, created.id, **fields))
    assert client.get(created.id) == created  # nothing changed


def test_an_unknown_enum_value_is_refused_naming_the_field(client) -> None:
    request = _request(first_name="A", last_name="B", email="a@example.com")
    request.preferred_channel = 99  # type: ignore[assignment]
    assert "preferred_channel" in _invalid(
        lambda: client.stub.CreateContact(request, metadata=client.metadata(), timeout=10)
    )
    request = _request(first_name="A", last_name="B", email="a@example.com")
    request.emails.add(address="a@example.com", label=42)  # type: ignore[arg-type]
    assert "emails[0].label" in _invalid(
        lambda: client.stub.CreateContact(request, metadata=client.metadata(), timeout=10)
    )


def test_every_bad_field_is_named_at_once(client) -> None:
    errors = _invalid(lambda: _create(client, first_name=" ", country="XX", phones=[{"number": "1"}]))
    assert {"first_name", "country", "phones[0].number"} <= set(errors)


def test_canonical_forms() -> None:
    assert canonical_language("zh-hant-tw") == "zh-Hant-TW"
    assert canonical_language("de_ch") == "de-CH"
    assert canonical_language("en-US-x-private") == "en-US-x-private"
    assert canonical_language("123") is None
    assert canonical_time_zone("AMERICA/new_york") == "America/New_York"
    assert canonical_time_zone("UTC") == "UTC"
    assert canonical_time_zone("Nowhere/Land") is None


# --- history and events -------------------------------------------------------------------------------


def test_history_and_events_carry_the_profile(client) -> None:
    created = client.stub.CreateContact(_request(**PROFILE), metadata=client.metadata(), timeout=10)
    _update(client, created.id, tags=["gold"], time_zone="America/New_York")
    entries = client.stub.ListContactHistory(
        history_pb2.ListHistoryRequest(id=created.id), metadata=client.metadata(), timeout=10
    ).items
    updated, made = entries
    made_fields = {change.field: protojson.encode_any(change.new_value) for change in made.changes}
    for name, value in EXPECTED.items():
        assert made_fields[name] == value, name
    assert [
        (c.field, protojson.encode_any(c.old_value), protojson.encode_any(c.new_value))
        for c in updated.changes
    ] == [("time_zone", "Europe/London", "America/New_York"), ("tags", ["vip", "engines"], ["gold"])]

    [(_, created_event), (_, updated_event)] = client.outbox()
    assert created_event["emails"] == ["ada@example.com", "ada@home.example"]
    assert created_event["phones"] == ["+442079460000", "+12025550125"]
    assert {
        name: created_event[name] for name in ("job_title", "preferred_channel", "language", "time_zone")
    } == {
        "job_title": "Analyst",
        "preferred_channel": "email",
        "language": "en-GB",
        "time_zone": "Europe/London",
    }
    assert (created_event["country"], created_event["city"], created_event["tags"]) == (
        "GB",
        "London",
        ["vip", "engines"],
    )
    assert created_event["birth_date"] == "1815-12-10"
    assert updated_event["changed_fields"] == ["time_zone", "tags"]
    assert (updated_event["email"], updated_event["phone"], updated_event["time_zone"]) == (
        "ada@example.com",
        "+442079460000",
        "America/New_York",
    )


# --- lists ----------------------------------------------------------------------------------------------


def test_lists_filter_and_order_by_the_segmentation_fields(client) -> None:
    london = client.stub.CreateContact(_request(**PROFILE), metadata=client.metadata(), timeout=10)
    berlin = _create(
        client,
        email="grace@example.com",
        first_name="Grace",
        country="DE",
        city="Berlin",
        region="Berlin",
        industry="Navy",
        occupation="Admiral",
        lead_source="event",
        language="de",
        preferred_channel="phone",
        time_zone="Europe/Berlin",
        job_title="Rear Admiral",
        birth_date="1906-12-09",
    )
    plain = _create(client, email="plain@example.com", first_name="Plain")

    def ids(**request: str) -> list[str]:
        return [c.id for c in client.list(**request).items]

    assert ids(filter='country = "DE"') == [berlin.id]
    assert ids(filter='city = "London" AND industry = "Computing"') == [london.id]
    assert ids(filter='region:"london"') == [london.id]
    assert ids(filter='occupation = "Admiral" OR lead_source = "referral"') == [london.id, berlin.id]
    assert ids(filter='language = "en-GB"') == [london.id]
    assert ids(filter='preferred_channel = "phone"') == [berlin.id]
    assert ids(filter='time_zone = "Europe/Berlin" AND job_title = "Rear Admiral"') == [berlin.id]
    assert ids(filter='birth_date < "1900-01-01"') == [london.id]
    assert ids(filter="country = null") == [plain.id]
    assert ids(order_by="country desc,city") == [london.id, berlin.id, plain.id]  # NULL smallest
    assert ids(order_by="city") == [plain.id, berlin.id, london.id]
    error = _refused(lambda: client.list(filter='tags = "vip"'))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


# --- every email unique in its book ---------------------------------------------------------------------


def _caller(user: str, role: str, teams: tuple[str, ...] = (), partner: str | None = None) -> CallerContext:
    return CallerContext(
        subject=user,
        roles=(role,),
        team_ids=teams,
        primary_team_id=teams[0] if teams else None,
        partner_account_id=partner,
        rights=builtin_rights(role),
    )


ADMIN = _caller("admin", "admin")
REP_A = _caller("rep-a", "sales_rep", ("team-a",))
REP_B = _caller("rep-b", "sales_rep", ("team-b",))
PARTNER_1 = _caller("partner-1-user", "partner", (), "p1")


class As:
    def __init__(self, signer: CallerContextSigner, stub: Any, caller: CallerContext) -> None:
        self.stub, self.md = stub, [("x-crm-caller", signer.sign(caller))]

    def create(self, email: str, **fields: Any) -> contacts_pb2.Contact:
        request = _request(first_name="A", last_name="B", email=email, **fields)
        return self.stub.CreateContact(request, metadata=self.md, timeout=20)

    def update(self, contact_id: str, **fields: Any) -> contacts_pb2.Contact:
        contact = contacts_pb2.Contact()
        protojson.decode_into({**fields, "id": contact_id}, contact)
        request = contacts_pb2.UpdateContactRequest(contact=contact)
        request.update_mask.paths.extend(fields)
        return self.stub.UpdateContact(request, metadata=self.md, timeout=20)


@pytest.fixture
def callers(runtime: Runtime) -> Iterator[Callable[[CallerContext], As]]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    check = CallerContextCheck(CallerContextVerifier({"test": public}))
    server = GrpcServer(
        "contacts", "127.0.0.1:0", lambda s: api.register(s, runtime), caller_check=check, max_workers=16
    ).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    signer, stub = CallerContextSigner(private, "test"), contacts_pb2_grpc.ContactsServiceStub(channel)
    yield lambda caller: As(signer, stub, caller)
    channel.close()
    server.stop(0)


def _conflict(call: Callable[[], Any]) -> tuple[str, str]:
    error = _refused(call)
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS, error.details()
    details = details_from(error)
    return details.resource_type, details.resource_name


def test_every_email_of_a_contact_is_unique_in_its_book(callers, runtime) -> None:
    rep_a, rep_b, admin, partner_1 = (callers(c) for c in (REP_A, REP_B, ADMIN, PARTNER_1))
    holder = rep_a.create("primary@example.com", emails=[{"address": "second@example.com"}])

    # A secondary email is taken like a primary one: as `email`, in `emails`, on create and update.
    assert _conflict(lambda: rep_a.create("second@example.com")) == ("contact", holder.id)
    assert _conflict(lambda: rep_a.create("new@example.com", emails=[{"address": "SECOND@example.com"}])) == (
        "contact",
        holder.id,
    )
    mine = rep_a.create("mine@example.com")
    assert _conflict(lambda: rep_a.update(mine.id, emails=[{"address": "second@example.com"}])) == (
        "contact",
        holder.id,
    )
    assert _conflict(lambda: rep_a.update(mine.id, email="second@example.com"))[1] == holder.id
    # A caller who may not read the holder learns that the email is taken, not by whom.
    assert _conflict(lambda: rep_b.create("second@example.com")) == ("", "")
    theirs = rep_b.create("theirs@example.com")
    assert _conflict(lambda: rep_b.update(theirs.id, emails=[{"address": "second@example.com"}])) == ("", "")
    # Another book may hold it.
    partner_1.create("second@example.com")
    # A released address is free again: the holder drops its secondary email.
    rep_a.update(holder.id, emails=[{"address": "primary@example.com"}])
    assert rep_a.create("second@example.com").email == "second@example.com"
    # A move to another book takes every email along (and is refused when that book has one of them).
    assert _conflict(
        lambda: admin.update(mine.id, partner_account_id="p1", emails=[{"address": "second@example.com"}])
    )
    moved = admin.update(mine.id, partner_account_id="p1")
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            select(store.ContactEmailRow.email, store.ContactEmailRow.uniqueness_book).where(
                store.ContactEmailRow.contact_id == moved.id
            )
        ).all()
    assert [tuple(r) for r in rows] == [("mine@example.com", "p1")]


def test_the_email_index_alone_refuses_a_secondary_email_in_the_book(runtime, client, monkeypatch) -> None:
    """The race path: both writers passed the check; the index on contact_emails refuses the second."""
    _create(client, email="one@example.com", emails=[{"address": "race@example.com"}])
    monkeypatch.setattr(store, "_ensure_email_free", lambda *args, **kwargs: None)
    error = _refused(
        lambda: _create(client, email="two@example.com", emails=[{"address": "race@example.com"}])
    )
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert [c.email for c in client.list().items] == ["one@example.com"]


# --- migration ------------------------------------------------------------------------------------------


def test_existing_contacts_get_their_email_and_phone_as_primary_entries(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrations.upgrade(engine, DEFINITION.migrations_dir, "0008")
        now = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
        insert = text("""
            INSERT INTO contacts (id, first_name, last_name, email, phone, company, version, created_at,
                                  updated_at, uniqueness_book)
            VALUES (:id, 'Ada', 'Lovelace', :email, :phone, NULL, 1, :now, :now, :book)
        """)
        with engine.begin() as conn:
            conn.execute(
                insert,
                {"id": "c1", "email": "a@example.com", "phone": "(202) 555-0125", "now": now, "book": ""},
            )
            conn.execute(
                insert, {"id": "c2", "email": "b@example.com", "phone": "+44 1234", "now": now, "book": "p1"}
            )
            conn.execute(
                insert, {"id": "c3", "email": "c@example.com", "phone": None, "now": now, "book": ""}
            )
        migrations.upgrade(engine, DEFINITION.migrations_dir)
        with engine.connect() as conn:
            emails = conn.execute(
                select(
                    store.ContactEmailRow.contact_id,
                    store.ContactEmailRow.email,
                    store.ContactEmailRow.uniqueness_book,
                ).order_by(store.ContactEmailRow.contact_id)
            ).all()
            assert [tuple(r) for r in emails] == [
                ("c1", "a@example.com", ""),
                ("c2", "b@example.com", "p1"),
                ("c3", "c@example.com", ""),
            ]
            rows = {r.id: store.to_message(r) for r in conn.execute(select(store.Contact)).all()}
        assert rows["c1"].phone == "+12025550125"
        assert [(p.number, p.formatted, p.primary) for p in rows["c1"].phones] == [
            ("+12025550125", "+1 202-555-0125", True)
        ]
        assert rows["c2"].phone == "+44 1234" and [p.number for p in rows["c2"].phones] == ["+44 1234"]
        assert [(e.address, e.primary) for e in rows["c3"].emails] == [("c@example.com", True)]
        assert list(rows["c3"].phones) == []
    finally:
        engine.dispose()


def test_a_number_kept_from_before_validation_does_not_block_other_changes(runtime, client) -> None:
    created = _create(client, email="legacy@example.com")
    with runtime.engine.begin() as conn:
        conn.execute(
            text("UPDATE contacts SET phone = '+44 1234', phones = :phones WHERE id = :id"),
            {
                "phones": '[{"number": "+44 1234", "formatted": "+44 1234", "label": null, "primary": true}]',
                "id": created.id,
            },
        )
    renamed = _update(client, created.id, first_name="Augusta")
    assert (renamed.first_name, renamed.phone) == ("Augusta", "+44 1234")
    # ...but a new invalid number is still refused.
    assert "contact.phones[1].number" in _invalid(
        lambda: _update(client, created.id, phones=[{"number": "+44 1234"}, {"number": "+44 12345"}])
    )


def test_a_number_the_contact_has_keeps_its_stored_formatting(runtime, client) -> None:
    # An update (an import's unchanged row above all) does not parse the numbers the contact already has
    # again: their formatting is taken as stored (here one an older metadata release would have given).
    created = _create(client, email="kept-format@example.com", phone="+12025550125")
    with runtime.engine.begin() as conn:
        conn.execute(
            text("UPDATE contacts SET phones = :phones WHERE id = :id"),
            {
                "phones": '[{"number": "+12025550125", "formatted": "+1 (202) 555-0125", "primary": true}]',
                "id": created.id,
            },
        )
    renamed = _update(client, created.id, first_name="Ada", phone="+12025550125")
    assert [(p.number, p.formatted) for p in renamed.phones] == [("+12025550125", "+1 (202) 555-0125")]
    # A number new to the contact is formatted as the metadata says.
    added = _update(client, created.id, phones=[{"number": "+12025550125"}, {"number": "+49 30 1234567"}])
    assert [p.formatted for p in added.phones] == ["+1 (202) 555-0125", "+49 30 1234567"]
