"""Partial updates: only masked fields change, the merged resource meets the contract, changes are listed."""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from crm.common.v1 import history_pb2
from crm.contacts.v1 import contacts_pb2
from crm_platform import protojson
from crm_platform.errors import InvalidArgument
from crm_platform.resources import check_mask, is_output_only, merge_update
from crm_platform.resources.field_mask import writable_fields

Contact = contacts_pb2.Contact


def current() -> contacts_pb2.Contact:
    return Contact(
        id="c1",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="+44 20 7946 0000",
        created_at=Timestamp(seconds=1_700_000_000),
        etag="e1",
    )


def test_output_only_fields_come_from_the_contract_and_etag_is_never_data() -> None:
    fields = Contact.DESCRIPTOR.fields_by_name
    assert [name for name in fields if is_output_only(fields[name])] == [
        "id",
        "created_at",
        "updated_at",
        "etag",
        "archived_at",
    ]
    writable = writable_fields(Contact.DESCRIPTOR)
    assert writable[:8] == [
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "owner_id",
        "team_id",
        "partner_account_id",
    ]
    # The profile's fields follow in contract order; every field is writable unless output-only.
    assert writable == [name for name in fields if not is_output_only(fields[name])]
    assert {"emails", "phones", "addresses", "tags", "birth_date"} <= set(writable)


def test_only_masked_fields_change_and_the_changes_say_old_and_new() -> None:
    partial = Contact(first_name="Augusta", last_name="ignored", company="Analytical Engines")
    merged = merge_update(current(), partial, ["first_name", "company"])
    assert (merged.message.first_name, merged.message.last_name) == ("Augusta", "Lovelace")
    assert merged.message.company == "Analytical Engines"
    assert merged.message.id == "c1" and merged.message.created_at.seconds == 1_700_000_000
    assert [tuple(c) for c in merged.changes] == [
        ("first_name", "Ada", "Augusta"),
        ("company", None, "Analytical Engines"),  # empty is "no value": null, as REST shows it
    ]
    assert merged.changed_fields == ["first_name", "company"]


def test_a_masked_field_absent_from_the_partial_resource_is_cleared() -> None:
    merged = merge_update(current(), Contact(), ["phone"])
    assert merged.message.phone == ""
    assert [tuple(c) for c in merged.changes] == [("phone", "+44 20 7946 0000", None)]


def test_setting_the_same_values_changes_nothing() -> None:
    assert merge_update(current(), Contact(first_name="Ada"), ["first_name"]).changes == []


@pytest.mark.parametrize(
    ("paths", "says"),
    [
        ([], "is required"),
        (["nickname"], "'nickname' is not a field of Contact"),
        (["id"], "'id' is output only"),
        (["etag"], "'etag' is output only"),
        (["created_at.seconds"], "'created_at.seconds' is output only"),
        (["first_name.x"], "'first_name.x' goes inside a field that is not a single message"),
    ],
)
def test_bad_masks_are_invalid_argument_on_update_mask(paths: list[str], says: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        merge_update(current(), Contact(first_name="X"), paths)
    assert list(raised.value.fields) == ["update_mask"]
    assert says in raised.value.fields["update_mask"]


def test_every_bad_path_is_named() -> None:
    with pytest.raises(InvalidArgument) as raised:
        check_mask(Contact.DESCRIPTOR, ["id", "first_name", "nope"])
    assert "'id'" in raised.value.fields["update_mask"] and "'nope'" in raised.value.fields["update_mask"]


def test_the_merged_resource_must_meet_the_contract_named_relative_to_the_request() -> None:
    with pytest.raises(InvalidArgument) as raised:
        merge_update(
            current(),
            Contact(first_name="", email="not-an-email"),
            ["first_name", "email"],
            request_field="contact",
        )
    assert set(raised.value.fields) == {"contact.first_name", "contact.email"}


def test_unmasked_fields_are_not_checked_by_the_request_only_the_merged_whole() -> None:
    # The partial resource breaks the rules in fields outside the mask: irrelevant, they are not applied.
    merged = merge_update(current(), Contact(first_name="Grace", email="bad", last_name=""), ["first_name"])
    assert merged.message.email == "ada@example.com"


def test_prepare_normalises_and_its_errors_are_named_relative_to_the_request() -> None:
    def prepare(contact: contacts_pb2.Contact) -> None:
        contact.email = contact.email.lower()
        if contact.first_name == "Nobody":
            raise InvalidArgument("no", {"first_name": "is not a name"})

    merged = merge_update(current(), Contact(email="ADA@example.com"), ["email"], prepare=prepare)
    assert merged.changes == []  # lower-cased back to what it was
    with pytest.raises(InvalidArgument) as raised:
        merge_update(
            current(), Contact(first_name="Nobody"), ["first_name"], request_field="contact", prepare=prepare
        )
    assert raised.value.fields == {"contact.first_name": "is not a name"}


def test_nested_paths_merge_inside_messages_and_repeated_fields_are_replaced() -> None:
    # Any message works; FieldChange has message fields (google.protobuf.Value) and no output-only ones.
    old = history_pb2.FieldChange(
        field="tags",
        old_value=struct_pb2.Value(string_value="kept"),
        new_value=struct_pb2.Value(
            list_value=struct_pb2.ListValue(values=[struct_pb2.Value(number_value=1)])
        ),
    )
    partial = history_pb2.FieldChange(
        field="ignored",
        old_value=struct_pb2.Value(number_value=2),
        new_value=struct_pb2.Value(
            list_value=struct_pb2.ListValue(values=[struct_pb2.Value(bool_value=True)])
        ),
    )
    merged = merge_update(old, partial, ["new_value.list_value.values"]).message
    assert merged.field == "tags" and merged.old_value.string_value == "kept"
    assert [v.bool_value for v in merged.new_value.list_value.values] == [True]
    merged = merge_update(old, partial, ["old_value"]).message
    assert merged.old_value.WhichOneof("kind") == "number_value"


def _struct(values: dict[str, object]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


@pytest.mark.parametrize(
    ("partial", "paths", "changed"),
    [
        (Contact(first_name="Ada"), ["first_name"], []),
        (Contact(custom_fields=_struct({})), ["custom_fields"], ["custom_fields"]),  # set, even empty
        (Contact(), ["custom_fields"], []),  # unset stays unset
        (Contact(tags=["vip"], company="Acme"), ["tags", "company"], ["company", "tags"]),
        (
            Contact(emails=[contacts_pb2.ContactEmail(address="ada@example.com", primary=True)]),
            ["emails"],
            [],
        ),
        (Contact(emails=[contacts_pb2.ContactEmail(address="ada@example.com")]), ["emails"], ["emails"]),
    ],
)
def test_the_changes_are_the_fields_whose_json_differs_presence_included(
    partial: contacts_pb2.Contact, paths: list[str], changed: list[str]
) -> None:
    """Only fields holding another value (or set where they were unset) are compared as JSON; what they
    say is what encoding both whole messages says."""
    start = current()
    start.emails.add(address="ada@example.com", primary=True)
    merged = merge_update(start, partial, paths)
    before, after = protojson.encode(start), protojson.encode(merged.message)
    assert merged.changed_fields == changed
    assert [tuple(change) for change in merged.changes] == [
        (name, before[name], after[name])
        for name in writable_fields(Contact.DESCRIPTOR)
        if before[name] != after[name]
    ]
