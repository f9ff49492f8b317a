"""History: entries written in the caller's transaction, listed newest first a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf import json_format
from sqlalchemy import func, select

from crm.common.v1 import history_pb2
from crm_platform.db import reading, transaction
from crm_platform.errors import InvalidArgument
from crm_platform.resources import Action, list_history, record_change


def test_an_entry_carries_who_what_and_the_values_as_json(db) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    with transaction(db.sessions) as session:
        record_change(
            session,
            "person",
            "p1",
            Action.UPDATED,
            "u7",
            [("phone", None, "+44 1"), ("archived_at", None, when), ("tags", ["a"], {"k": 1})],
            occurred_at=when,
        )
    with reading(db.sessions) as session:
        [entry] = list_history(session, "person", "p1").items
    assert (entry.resource_type, entry.resource_id, entry.actor_id) == ("person", "p1", "u7")
    assert entry.action == history_pb2.CHANGE_ACTION_UPDATED
    assert entry.occurred_at.ToDatetime(tzinfo=UTC) == when
    changes = [
        (c.field, json_format.MessageToDict(c.old_value), json_format.MessageToDict(c.new_value))
        for c in entry.changes
    ]
    assert changes == [
        ("phone", None, "+44 1"),
        ("archived_at", None, "2026-01-02T03:04:05.6Z"),
        ("tags", ["a"], {"k": 1}),
    ]
    assert entry.changes[0].old_value.WhichOneof("kind") == "null_value"


def test_entries_are_part_of_the_callers_transaction(db) -> None:
    with pytest.raises(RuntimeError), transaction(db.sessions) as session:
        record_change(session, "person", "p1", Action.CREATED, "u1", [])
        raise RuntimeError("the change itself failed")
    with reading(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(db.tables.history)) == 0


def test_pages_newest_first_without_other_resources(db) -> None:
    for n in range(7):
        with transaction(db.sessions) as session:
            record_change(session, "person", "p1", Action.UPDATED, "u1", [("n", n - 1, n)])
            record_change(session, "person", "p2", Action.UPDATED, "u1", [("n", n - 1, n)])
            record_change(session, "other", "p1", Action.UPDATED, "u1", [("n", n - 1, n)])
    seen, cursor = [], ""
    while True:
        with reading(db.sessions) as session:
            page = list_history(session, "person", "p1", limit=3, cursor=cursor)
        assert len(page.items) <= 3
        seen += [json_format.MessageToDict(e.changes[0].new_value) for e in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [6, 5, 4, 3, 2, 1, 0]


@pytest.mark.parametrize(("limit", "cursor"), [(-1, ""), (201, ""), (0, "garbage"), (0, "eyJoIjoiMSJ9")])
def test_bad_paging_arguments_are_invalid_argument(db, limit: int, cursor: str) -> None:
    with reading(db.sessions) as session, pytest.raises(InvalidArgument):
        list_history(session, "person", "p1", limit=limit, cursor=cursor)
