"""Idempotency keys honoured in the service's own transaction: one execution, every retry replays it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from crm.contacts.v1 import contacts_pb2
from crm_platform.access.context import acting_as
from crm_platform.db import reading, utcnow
from crm_platform.errors import FailedPrecondition, IdempotencyKeyReused, InvalidArgument
from crm_platform.resources import idempotent_write, purge_expired
from crm_platform.resources.idempotency import RETENTION
from crm_platform.testing.callers import caller

REPLAYED = (("idempotent-replayed", "true"),)


class Context:
    """The part of grpc.ServicerContext idempotent_write uses."""

    def __init__(self, key: str = "", user: str = "u1") -> None:
        self.user = user  # the verified caller the server interceptor would make current
        self.metadata = [("idempotency-key", key)] if key else []
        self.initial_metadata: tuple[tuple[str, str], ...] | None = None

    def invocation_metadata(self) -> list[tuple[str, str]]:
        return self.metadata

    def send_initial_metadata(self, metadata: Any) -> None:
        assert self.initial_metadata is None, "initial metadata can be sent once"
        self.initial_metadata = tuple(metadata)


@contextmanager
def idempotent(db, context: Context, req: Any, response: Any) -> Iterator[Any]:
    """`idempotent_write` as a servicer runs it: with the call's verified caller current."""
    with acting_as(caller(context.user)), idempotent_write(db.sessions, context, req, response) as write:
        yield write


def request(email: str = "ada@example.com") -> contacts_pb2.CreateContactRequest:
    return contacts_pb2.CreateContactRequest(first_name="Ada", last_name="Lovelace", email=email)


def create(
    db, context: Context, req: contacts_pb2.CreateContactRequest, person_id: str
) -> contacts_pb2.Contact:
    """What a servicer's Create does: the work runs only when the call is not a replay."""
    with (
        acting_as(caller(context.user)),
        idempotent(db, context, req, contacts_pb2.Contact) as write,
    ):
        if write.replay is not None:
            return write.replay
        row = db.repo.create(write.session, db.new(person_id, req.email), "u1").row
        return write.respond(db.repo.to_message(row))


def people(db) -> int:
    with reading(db.sessions) as session:
        return session.scalar(select(func.count()).select_from(db.model))


def test_without_a_key_it_is_a_plain_transaction(db) -> None:
    create(db, Context(), request(), "p1")
    create(db, Context(), request("grace@example.com"), "p2")
    assert people(db) == 2
    with reading(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(db.tables.idempotency_keys)) == 0


def test_a_retry_replays_the_first_response_byte_for_byte_and_does_nothing(db) -> None:
    first = create(db, Context("k1"), request(), "p1")
    retry_context = Context("k1")
    retry = create(db, retry_context, request(), "p2")
    assert retry.SerializeToString(deterministic=True) == first.SerializeToString(deterministic=True)
    assert retry_context.initial_metadata == REPLAYED
    assert people(db) == 1


def test_the_same_key_with_another_request_is_refused(db) -> None:
    create(db, Context("k1"), request(), "p1")
    with pytest.raises(IdempotencyKeyReused) as raised:
        create(db, Context("k1"), request("grace@example.com"), "p2")
    assert raised.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert people(db) == 1


def test_keys_belong_to_their_caller(db) -> None:
    create(db, Context("k1", user="u1"), request(), "p1")
    create(db, Context("k1", user="u2"), request("grace@example.com"), "p2")
    assert people(db) == 2


def test_a_failed_call_releases_its_key(db) -> None:
    with (
        pytest.raises(RuntimeError),
        idempotent(db, Context("k1"), request(), contacts_pb2.Contact),
    ):
        raise RuntimeError("the work failed")
    create(db, Context("k1"), request(), "p1")
    assert people(db) == 1


def test_forgetting_to_respond_is_a_programming_error_and_commits_nothing(db) -> None:
    with (
        pytest.raises(RuntimeError),
        idempotent(db, Context("k1"), request(), contacts_pb2.Contact) as w,
    ):
        db.repo.create(w.session, db.new(), "u1")
    assert people(db) == 0


def test_a_too_long_key_is_invalid_argument(db) -> None:
    with pytest.raises(InvalidArgument):
        create(db, Context("k" * 256), request(), "p1")


def test_an_expired_claim_no_longer_counts_and_is_purged(db) -> None:
    create(db, Context("k1"), request(), "p1")
    with db.sessions.begin() as session:
        session.execute(
            update(db.tables.idempotency_keys).values(created_at=utcnow() - RETENTION - timedelta(1))
        )
    # Expired: the same key starts afresh (here a different request, which is no longer "reused").
    create(db, Context("k1"), request("grace@example.com"), "p2")
    assert people(db) == 2
    assert purge_expired(db.sessions) == 0  # the fresh claim replaced the expired one
    create(db, Context("k2"), request("mary@example.com"), "p3")
    assert purge_expired(db.sessions, now=utcnow() + RETENTION + timedelta(1)) == 2


def test_concurrent_calls_with_one_key_do_the_work_once_and_all_get_its_response(db) -> None:
    callers = 20
    start = threading.Barrier(callers)
    responses: list[bytes] = []
    errors: list[BaseException] = []
    replays: list[bool] = []

    def call(n: int) -> None:
        context = Context("k1")
        start.wait()
        try:
            with idempotent(db, context, request(), contacts_pb2.Contact) as write:
                if write.replay is not None:
                    response = write.replay
                else:
                    row = db.repo.create(write.session, db.new(f"p{n}"), "u1").row
                    time.sleep(0.05)  # hold the claim while the others arrive
                    response = write.respond(db.repo.to_message(row))
            responses.append(response.SerializeToString(deterministic=True))
            replays.append(context.initial_metadata == REPLAYED)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(responses) == callers and len(set(responses)) == 1
    assert sorted(replays) == [False] + [True] * (callers - 1)
    assert people(db) == 1


def test_a_replay_must_not_respond_again(db) -> None:
    create(db, Context("k1"), request(), "p1")
    with idempotent(db, Context("k1"), request(), contacts_pb2.Contact) as write:
        assert write.replay is not None
        with pytest.raises(RuntimeError):
            write.respond(contacts_pb2.Contact())


def test_a_claim_without_a_response_is_not_replayed(db) -> None:
    create(db, Context("k1"), request(), "p1")
    with db.sessions.begin() as session:
        session.execute(update(db.tables.idempotency_keys).values(response=None))
    with pytest.raises(FailedPrecondition):
        create(db, Context("k1"), request(), "p2")
