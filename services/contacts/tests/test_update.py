"""UpdateContact over a real server: field masks, etags, concurrent writers, the domain's rules, events."""

from __future__ import annotations

import threading

import grpc
import pytest

from crm_platform.errors import details_from, field_errors_from

WRITERS = 8


def failure(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call(*args, **kwargs)
    return raised.value


def test_only_masked_fields_change_and_the_etag_moves(client) -> None:
    created = client.create(phone="+44 20 7946 0000")
    updated = client.update(
        created.id,
        ["company", "phone"],
        etag=created.etag,
        first_name="Not masked",
        company="Analytical Engines",
    )
    assert (updated.first_name, updated.last_name, updated.email) == ("Ada", "Lovelace", "ada@example.com")
    assert (updated.company, updated.phone) == ("Analytical Engines", "")  # masked and absent: cleared
    assert updated.etag != created.etag and updated.created_at == created.created_at
    assert updated.updated_at.ToDatetime() > created.updated_at.ToDatetime()
    assert client.get(created.id) == updated


def test_update_announces_what_changed_and_who_changed_it(client) -> None:
    created = client.create()
    client.update(
        created.id, ["email", "company"], user="u9", email="Ada@Lovelace.org", company="Babbage & Co"
    )
    [(created_type, created_payload), (event_type, payload)] = client.outbox()
    assert (created_type, created_payload["actor_id"], created_payload["version"]) == (
        "contact_created",
        "u1",
        1,
    )
    assert event_type == "contact_updated"
    assert (payload["contact_id"], payload["actor_id"], payload["version"]) == (created.id, "u9", 2)
    # The primary email's entry in `emails` follows `email` (contacts.people).
    assert payload["changed_fields"] == ["email", "company", "emails"]
    assert payload["changes"] == [
        {"field": "email", "old_value": "ada@example.com", "new_value": "ada@lovelace.org"},  # normalised
        {"field": "company", "old_value": None, "new_value": "Babbage & Co"},
        {
            "field": "emails",
            "old_value": [{"address": "ada@example.com", "label": None, "primary": True}],
            "new_value": [{"address": "ada@lovelace.org", "label": None, "primary": True}],
        },
    ]


def test_an_update_that_changes_nothing_announces_nothing_and_keeps_the_etag(client) -> None:
    created = client.create()
    same = client.update(created.id, ["first_name"], etag=created.etag, first_name="Ada")
    assert same.etag == created.etag
    assert [event for event, _ in client.outbox()] == ["contact_created"]


def test_a_stale_etag_is_failed_precondition_and_changes_nothing(client) -> None:
    created = client.create()
    current = client.update(created.id, ["company"], company="First")
    error = failure(client.update, created.id, ["company"], etag=created.etag, company="Second")
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = details_from(error)
    assert (details.reason, details.precondition_types) == ("ETAG_MISMATCH", ("ETAG",))
    assert client.get(created.id) == current
    assert [event for event, _ in client.outbox()] == ["contact_created", "contact_updated"]


def test_of_concurrent_updates_with_one_etag_exactly_one_succeeds(client) -> None:
    created = client.create()
    start = threading.Barrier(WRITERS)
    outcomes: list[grpc.StatusCode] = []

    def write(n: int) -> None:
        start.wait()
        try:
            client.update(created.id, ["company"], etag=created.etag, company=f"Company {n}")
            outcomes.append(grpc.StatusCode.OK)
        except grpc.RpcError as error:
            outcomes.append(error.code())

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes, key=str) == sorted(
        [grpc.StatusCode.OK] + [grpc.StatusCode.FAILED_PRECONDITION] * (WRITERS - 1), key=str
    )
    assert [event for event, _ in client.outbox()].count("contact_updated") == 1


def test_the_merged_contact_must_meet_the_contract_named_from_the_request(client) -> None:
    created = client.create()
    error = failure(client.update, created.id, ["email", "last_name"], email="not-an-email", last_name="")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_errors_from(error)) == {"contact.email", "contact.last_name"}


def test_the_domain_rules_apply_to_updates_too(client) -> None:
    created = client.create()
    error = failure(client.update, created.id, ["phone", "first_name"], phone="123", first_name="  ")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_errors_from(error)) == {"contact.phone", "contact.first_name"}
    trimmed = client.update(created.id, ["first_name"], first_name="  Augusta ")
    assert trimmed.first_name == "Augusta"


@pytest.mark.parametrize(
    ("paths", "says"),
    [([], "is required"), (["id"], "output only"), (["etag"], "output only"), (["x"], "not a field")],
)
def test_masks_naming_nothing_or_what_cannot_change_are_invalid(client, paths: list[str], says: str) -> None:
    created = client.create()
    error = failure(client.update, created.id, paths, first_name="Grace")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert says in field_errors_from(error)["update_mask"]


def test_taking_another_contacts_email_is_already_exists(client) -> None:
    client.create("grace@example.com")
    created = client.create()
    error = failure(client.update, created.id, ["email"], email="GRACE@example.com")
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert client.get(created.id).email == "ada@example.com"
    # Its own email, in other letters, is not "another contact's".
    assert client.update(created.id, ["email"], email="ADA@example.com").email == "ada@example.com"


def test_unknown_or_missing_ids(client) -> None:
    error = failure(client.update, "nope", ["first_name"], first_name="Grace")
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert (details_from(error).resource_type, details_from(error).resource_name) == ("contact", "nope")
    error = failure(client.update, "", ["first_name"], first_name="Grace")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_errors_from(error)) == {"contact.id"}
