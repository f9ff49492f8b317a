"""DeleteContact archives; ListContactHistory tells who changed what, newest first."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import json_format

from crm.common.v1 import history_pb2
from crm_platform import protojson
from crm_platform.errors import details_from


def history(client, contact_id: str, **paging) -> history_pb2.ListHistoryResponse:
    request = history_pb2.ListHistoryRequest(id=contact_id, **paging)
    return client.stub.ListContactHistory(request, timeout=10)


def changes(entry: history_pb2.HistoryEntry) -> list[tuple[str, object, object]]:
    return [
        (c.field, json_format.MessageToDict(c.old_value), json_format.MessageToDict(c.new_value))
        for c in entry.changes
    ]


def test_delete_archives_the_contact_which_stays_readable_but_leaves_lists(client) -> None:
    kept, gone = client.create("grace@example.com"), client.create()
    client.delete(gone.id, etag=gone.etag, user="u5")
    archived = client.get(gone.id)
    assert archived.HasField("archived_at") and not client.get(kept.id).HasField("archived_at")
    assert archived.etag != gone.etag
    assert [c.id for c in client.list().items] == [kept.id]
    [*_, (event_type, payload)] = client.outbox()
    assert event_type == "contact_archived"
    assert (payload["contact_id"], payload["actor_id"], payload["version"]) == (gone.id, "u5", 2)
    assert payload["archived_at"] == protojson.encode_any(archived.archived_at)


def test_deleting_again_succeeds_and_changes_nothing(client) -> None:
    created = client.create()
    client.delete(created.id, etag=created.etag)
    archived = client.get(created.id)
    client.delete(created.id, etag=created.etag)  # a retry whose first attempt went through
    assert client.get(created.id) == archived
    assert [event for event, _ in client.outbox()] == ["contact_created", "contact_archived"]


def test_delete_with_a_stale_etag_is_failed_precondition(client) -> None:
    created = client.create()
    client.update(created.id, ["company"], company="Babbage & Co")
    with pytest.raises(grpc.RpcError) as raised:
        client.delete(created.id, etag=created.etag)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details_from(raised.value).precondition_types == ("ETAG",)
    assert not client.get(created.id).HasField("archived_at")


def test_delete_unknown_is_not_found(client) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        client.delete("nope")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_history_lists_every_change_newest_first_with_its_actor_and_fields(client) -> None:
    created = client.create(company="Babbage & Co", user="u1")
    client.update(created.id, ["first_name", "company"], first_name="Augusta", user="u2")
    client.delete(created.id, user="u3")
    entries = history(client, created.id).items
    assert [(e.action, e.actor_id, e.resource_type, e.resource_id) for e in entries] == [
        (history_pb2.CHANGE_ACTION_DELETED, "u3", "contact", created.id),
        (history_pb2.CHANGE_ACTION_UPDATED, "u2", "contact", created.id),
        (history_pb2.CHANGE_ACTION_CREATED, "u1", "contact", created.id),
    ]
    deleted, updated, made = entries
    assert changes(made) == [
        ("first_name", None, "Ada"),
        ("last_name", None, "Lovelace"),
        ("email", None, "ada@example.com"),
        ("company", None, "Babbage & Co"),
        ("owner_id", None, "u1"),  # the creator owns what they create
        ("emails", None, [{"address": "ada@example.com", "label": None, "primary": True}]),
    ]
    assert changes(updated) == [("first_name", "Ada", "Augusta"), ("company", "Babbage & Co", None)]
    archived_at = protojson.encode_any(client.get(created.id).archived_at)  # the platform's RFC 3339 form
    assert changes(deleted) == [("archived_at", None, archived_at)]
    assert made.occurred_at == created.created_at


def test_history_pages(client) -> None:
    created = client.create()
    for n in range(5):
        client.update(created.id, ["company"], company=f"Company {n}")
    seen, cursor = [], ""
    while True:
        page = history(client, created.id, limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen += [e.id for e in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [e.id for e in history(client, created.id, limit=50).items]
    assert len(seen) == 6


def test_history_of_an_unknown_contact_is_not_found(client) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        history(client, "nope")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
