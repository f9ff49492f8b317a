"""What a fuzzer found the contacts service answering with INTERNAL (a 500), each now a clean refusal
naming the field, over a real gRPC server (SQLite, then PostgreSQL): times no datetime can hold, a
request with so many bad custom fields that its field errors outgrew what a gRPC client accepts in a
trailer, an update naming its fields twice over, and the NUL character in any text of any request
(an id, a note, a custom field), which PostgreSQL cannot store (the gateway's JSON decoding refused it
already; gRPC callers reached the database with it)."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import timestamp_pb2

from crm.common.v1 import history_pb2
from crm.contacts.v1 import companies_pb2, consent_pb2, contacts_pb2, interactions_pb2, merge_pb2
from crm_platform.errors import details_from, field_errors_from
from crm_platform.service import Runtime

from .merging import ADMIN, Calls, refused, serving

# Seconds a Timestamp can carry and a datetime cannot (years past 9999 or before 1), and nanos past 1 s.
NOT_TIMES = [
    timestamp_pb2.Timestamp(seconds=2**40),
    timestamp_pb2.Timestamp(seconds=-(2**40)),
    timestamp_pb2.Timestamp(seconds=253402300800),
    timestamp_pb2.Timestamp(seconds=0, nanos=1_000_000_000),
]


@pytest.fixture
def calls(runtime: Runtime) -> Iterator[Calls]:
    with serving(runtime) as calls:
        yield calls


def test_times_no_datetime_can_hold_are_refused_naming_the_field(calls: Calls) -> None:
    contact = calls.person()
    logged = calls.interaction(contact.id, "first")
    for stamp in NOT_TIMES:
        create = interactions_pb2.CreateInteractionRequest(
            contact_id=contact.id, kind=interactions_pb2.INTERACTION_KIND_CALL, occurred_at=stamp
        )
        error = refused(lambda create=create: calls.interactions.CreateInteraction(create, metadata=ADMIN))
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
        assert list(field_errors_from(error)) == ["occurred_at"]
        update = interactions_pb2.UpdateInteractionRequest(
            interaction=interactions_pb2.Interaction(id=logged.id, contact_id=contact.id, occurred_at=stamp),
            update_mask={"paths": ["occurred_at"]},
        )
        error = refused(lambda update=update: calls.interactions.UpdateInteraction(update, metadata=ADMIN))
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
        assert list(field_errors_from(error)) == ["interaction.occurred_at"]  # named once, as sent
        consent = consent_pb2.RecordConsentRequest(
            contact_id=contact.id,
            channel=consent_pb2.CONSENT_CHANNEL_EMAIL,
            purpose=consent_pb2.CONSENT_PURPOSE_MARKETING,
            status=consent_pb2.CONSENT_STATUS_GRANTED,
            source="web_form",
            occurred_at=stamp,
        )
        error = refused(lambda consent=consent: calls.consents.RecordConsent(consent, metadata=ADMIN))
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
        assert list(field_errors_from(error)) == ["occurred_at"]
    # The edges themselves are times.
    for seconds in (-62135596800, 253402300799):
        edge = interactions_pb2.CreateInteractionRequest(
            contact_id=contact.id,
            kind=interactions_pb2.INTERACTION_KIND_NOTE,
            occurred_at=timestamp_pb2.Timestamp(seconds=seconds),
        )
        assert calls.interactions.CreateInteraction(edge, metadata=ADMIN).occurred_at.seconds == seconds


def test_hundreds_of_bad_custom_fields_are_still_field_errors(calls: Calls) -> None:
    """Each unknown name is a violation; five hundred of them, each a long name, would make a status
    detail of ~100 KB, which gRPC clients refuse (RESOURCE_EXHAUSTED): the answer keeps what fits and
    says how many it left out."""
    request = contacts_pb2.CreateContactRequest(first_name="Ada", last_name="Lovelace", email="x@example.com")
    request.custom_fields.update({f"field_{i:03}_{'x' * 150}": i for i in range(500)})
    error = refused(lambda: calls.contacts.CreateContact(request, metadata=ADMIN, timeout=10))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
    details = details_from(error)
    named = [field for field, _ in details.field_violations]
    assert 0 < len(named) < 500 and all(field.startswith("custom_fields.field_") for field in named)
    assert max(len(field) for field in named) <= 120  # long names are cut, with an ellipsis
    assert int((details.metadata or {})["omitted_violations"]) == 500 - len(named)


def test_the_nul_character_in_any_text_of_any_request_is_refused_naming_it(calls: Calls) -> None:
    contact = calls.person()
    custom = contacts_pb2.CreateContactRequest(first_name="Ada", last_name="L", email="nul@example.com")
    custom.custom_fields.update({"nickname": "a\x00", "list": ["ok", "\x00"]})
    cases = [
        (
            lambda: calls.contacts.GetContact(contacts_pb2.GetContactRequest(id="a\x00b"), metadata=ADMIN),
            ["id"],
        ),
        (
            lambda: calls.contacts.ListContactHistory(
                history_pb2.ListHistoryRequest(id="\x00"), metadata=ADMIN
            ),
            ["id"],
        ),
        (
            lambda: calls.contacts.UpdateContact(
                contacts_pb2.UpdateContactRequest(
                    contact=contacts_pb2.Contact(id=contact.id, notes="x\x00y"),
                    update_mask={"paths": ["notes"]},
                ),
                metadata=ADMIN,
            ),
            ["contact.notes"],
        ),
        (
            lambda: calls.contacts.CreateContact(
                contacts_pb2.CreateContactRequest(
                    first_name="A", last_name="B", email="n@example.com", notes="\x00"
                ),
                metadata=ADMIN,
            ),
            ["notes"],
        ),
        (
            lambda: calls.contacts.CreateContact(custom, metadata=ADMIN),
            ["custom_fields.nickname", "custom_fields.list[1]"],
        ),
        (
            lambda: calls.merges.MergeContacts(
                merge_pb2.MergeContactsRequest(id=contact.id, source_ids=["\x00"]), metadata=ADMIN
            ),
            ["source_ids"],
        ),
        (
            lambda: calls.interactions.CreateInteraction(
                interactions_pb2.CreateInteractionRequest(
                    contact_id=contact.id, kind=interactions_pb2.INTERACTION_KIND_NOTE, summary="\x00"
                ),
                metadata=ADMIN,
            ),
            ["summary"],
        ),
        (
            lambda: calls.companies.CreateCompany(
                companies_pb2.CreateCompanyRequest(name="Acme", description="\x00"), metadata=ADMIN
            ),
            ["description"],
        ),
    ]
    for call, named in cases:
        error = refused(call)
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, (named, error.code(), error.details())
        assert sorted(field_errors_from(error)) == sorted(named)
    assert (
        calls.contacts.GetContact(contacts_pb2.GetContactRequest(id=contact.id), metadata=ADMIN).notes == ""
    )
