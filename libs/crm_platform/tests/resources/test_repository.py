"""The standard writes: each changes the row, bumps its version, records history and says what changed."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import json_format
from sqlalchemy import String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crm.common.v1 import history_pb2
from crm.contacts.v1 import contacts_pb2
from crm_platform import protojson
from crm_platform.db import reading, transaction
from crm_platform.errors import EtagMismatch, InvalidArgument, NotFound
from crm_platform.resources import Repository, etag_of


def history(db, person_id: str = "p1") -> list[tuple[int, str, list[tuple[str, object, object]]]]:
    with reading(db.sessions) as session:
        items = db.repo.history(session, person_id).items
    return [
        (
            entry.action,
            entry.actor_id,
            [
                (c.field, json_format.MessageToDict(c.old_value), json_format.MessageToDict(c.new_value))
                for c in entry.changes
            ],
        )
        for entry in items
    ]


def test_create_fills_version_and_timestamps_and_records_every_field_with_a_value(db) -> None:
    with transaction(db.sessions) as session:
        change = db.repo.create(session, db.new(company="Babbage & Co"), "u1")
    assert (change.version, change.actor_id) == (1, "u1")
    assert change.row.created_at == change.row.updated_at and change.row.archived_at is None
    expected = [
        ("first_name", None, "Ada"),
        ("last_name", None, "Lovelace"),
        ("email", None, "ada@example.com"),
        ("company", None, "Babbage & Co"),
    ]
    assert [tuple(c) for c in change.changes] == expected
    assert history(db) == [(history_pb2.CHANGE_ACTION_CREATED, "u1", expected)]


def test_get_unknown_is_not_found_naming_the_resource(db) -> None:
    with reading(db.sessions) as session, pytest.raises(NotFound) as raised:
        db.repo.get(session, "nope")
    assert raised.value.code == grpc.StatusCode.NOT_FOUND
    assert (raised.value.resource_type, raised.value.resource_name) == ("person", "nope")


def test_update_changes_masked_fields_bumps_the_version_and_records_who_changed_what(db) -> None:
    created = db.create()
    with transaction(db.sessions) as session:
        change = db.repo.update(
            session,
            "p1",
            contacts_pb2.Contact(first_name="Augusta", last_name="not masked", phone="+44 1234"),
            ["first_name", "phone"],
            etag=etag_of("p1", 1),
            actor_id="u2",
        )
    assert (change.version, change.changed_fields, change.actor_id) == (2, ["first_name", "phone"], "u2")
    with reading(db.sessions) as session:
        row = db.repo.get(session, "p1")
        assert (row.first_name, row.last_name, row.phone, row.version) == (
            "Augusta",
            "Lovelace",
            "+44 1234",
            2,
        )
        assert row.updated_at > created.updated_at and row.created_at == created.created_at
        assert db.repo.to_message(row).etag == etag_of("p1", 2)
    assert history(db)[0] == (
        history_pb2.CHANGE_ACTION_UPDATED,
        "u2",
        [("first_name", "Ada", "Augusta"), ("phone", None, "+44 1234")],
    )


def test_an_update_that_changes_nothing_writes_nothing(db) -> None:
    db.create()
    with transaction(db.sessions) as session:
        change = db.repo.update(
            session, "p1", contacts_pb2.Contact(first_name="Ada"), ["first_name"], etag="", actor_id="u2"
        )
    assert (change.version, change.changes) == (1, [])
    assert len(history(db)) == 1


def test_a_stale_etag_changes_nothing(db) -> None:
    db.create()
    with pytest.raises(EtagMismatch), transaction(db.sessions) as session:
        db.repo.update(
            session,
            "p1",
            contacts_pb2.Contact(first_name="X"),
            ["first_name"],
            etag=etag_of("p1", 0),
            actor_id="u2",
        )
    with reading(db.sessions) as session:
        assert (db.repo.get(session, "p1").first_name, db.repo.get(session, "p1").version) == ("Ada", 1)
    assert len(history(db)) == 1


def test_an_invalid_merged_resource_is_named_relative_to_the_request(db) -> None:
    db.create()
    with pytest.raises(InvalidArgument) as raised, transaction(db.sessions) as session:
        db.repo.update(session, "p1", contacts_pb2.Contact(email="nope"), ["email"], etag="", actor_id="u2")
    assert list(raised.value.fields) == ["contact.email"]


def test_update_of_an_unknown_resource_is_not_found(db) -> None:
    with pytest.raises(NotFound), transaction(db.sessions) as session:
        db.repo.update(
            session, "nope", contacts_pb2.Contact(first_name="X"), ["first_name"], etag="", actor_id="u"
        )


def test_archive_sets_archived_at_once_and_a_repeat_is_a_no_op_whatever_the_etag(db) -> None:
    db.create()
    with transaction(db.sessions) as session:
        change = db.repo.archive(session, "p1", etag=etag_of("p1", 1), actor_id="u3")
    assert (change.version, change.changed_fields) == (2, ["archived_at"])
    with transaction(db.sessions) as session:
        again = db.repo.archive(session, "p1", etag=etag_of("p1", 1), actor_id="u3")  # a retried delete
    assert (again.version, again.changes) == (2, [])
    with reading(db.sessions) as session:
        message = db.repo.to_message(db.repo.get(session, "p1"))
    assert message.HasField("archived_at")
    [(action, actor, changes), *_] = history(db)
    assert (action, actor, [c[:2] for c in changes]) == (
        history_pb2.CHANGE_ACTION_DELETED,
        "u3",
        [("archived_at", None)],
    )
    assert changes[0][2] == protojson.encode_any(message.archived_at)  # the platform's RFC 3339 form
    assert len(history(db)) == 2


def test_archive_with_a_stale_etag_changes_nothing(db) -> None:
    db.create()
    with pytest.raises(EtagMismatch), transaction(db.sessions) as session:
        db.repo.archive(session, "p1", etag="stale", actor_id="u3")
    with reading(db.sessions) as session:
        assert db.repo.get(session, "p1").archived_at is None


def test_history_of_an_unknown_resource_is_not_found(db) -> None:
    with reading(db.sessions) as session, pytest.raises(NotFound):
        db.repo.history(session, "nope")


def test_history_rolls_back_with_the_change(db) -> None:
    with pytest.raises(RuntimeError), transaction(db.sessions) as session:
        db.repo.create(session, db.new(), "u1")
        raise RuntimeError("the event could not be recorded")
    with reading(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(db.tables.history)) == 0


def test_a_model_without_the_conventions_is_refused_at_once() -> None:
    class Base(DeclarativeBase):
        pass

    class Thing(Base):
        __tablename__ = "things"
        id: Mapped[str] = mapped_column(String(36), primary_key=True)

    with pytest.raises(TypeError, match="version"):
        Repository(Thing, "thing", to_message=lambda row: row, to_columns=lambda message: {})
