"""Optimistic concurrency: of N writers holding the same etag exactly one wins, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import grpc
import pytest

from crm.contacts.v1 import contacts_pb2
from crm_platform.db import reading, transaction
from crm_platform.errors import EtagMismatch
from crm_platform.resources import check_etag, compare_and_set, etag_of

WRITERS = 8


def test_etag_is_opaque_stable_and_per_version() -> None:
    assert etag_of("p1", 1) == etag_of("p1", 1)
    assert len({etag_of("p1", 1), etag_of("p1", 2), etag_of("p2", 1)}) == 3
    assert '"' not in etag_of("p1", 1) and etag_of("p1", 1) != "1"


def test_check_etag_accepts_the_current_or_none() -> None:
    check_etag("p1", 3, etag_of("p1", 3))
    check_etag("p1", 3, "")  # no precondition
    with pytest.raises(EtagMismatch) as raised:
        check_etag("p1", 3, etag_of("p1", 2))
    assert raised.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert raised.value.subject == "p1"


def test_a_stale_version_changes_nothing(db) -> None:
    db.create()
    with pytest.raises(EtagMismatch), transaction(db.sessions) as session:
        compare_and_set(session, db.model, "p1", 7, {"first_name": "Grace"})
    with reading(db.sessions) as session:
        row = session.get(db.model, "p1")
        assert (row.first_name, row.version) == ("Ada", 1)


def test_a_current_version_writes_and_bumps_it(db) -> None:
    db.create()
    with transaction(db.sessions) as session:
        loaded = session.get(db.model, "p1")
        assert compare_and_set(session, db.model, "p1", 1, {"first_name": "Grace"}) == 2
        assert (loaded.first_name, loaded.version) == ("Grace", 2)  # the session's object follows
    with reading(db.sessions) as session:
        assert session.get(db.model, "p1").version == 2


def race(writers: int, write: Callable[[int], None]) -> tuple[list[int], list[BaseException]]:
    """Run `write(n)` in `writers` threads released together; the ns that succeeded and the errors."""
    start = threading.Barrier(writers)
    won: list[int] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            write(n)
            won.append(n)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return won, errors


def test_of_concurrent_compare_and_sets_with_one_version_exactly_one_wins(db) -> None:
    db.create()

    def write(n: int) -> None:
        with transaction(db.sessions) as session:
            compare_and_set(session, db.model, "p1", 1, {"first_name": f"Writer {n}"})

    won, errors = race(WRITERS, write)
    assert len(won) == 1
    assert len(errors) == WRITERS - 1 and all(isinstance(e, EtagMismatch) for e in errors)
    with reading(db.sessions) as session:
        row = session.get(db.model, "p1")
        assert (row.first_name, row.version) == (f"Writer {won[0]}", 2)


def test_of_concurrent_repository_updates_with_one_etag_exactly_one_wins(db) -> None:
    etag = db.repo.to_message(db.create()).etag

    def write(n: int) -> None:
        with transaction(db.sessions) as session:
            partial = contacts_pb2.Contact(first_name=f"Writer {n}")
            db.repo.update(session, "p1", partial, ["first_name"], etag=etag, actor_id=f"u{n}")

    won, errors = race(WRITERS, write)
    assert len(won) == 1
    assert all(isinstance(e, EtagMismatch) for e in errors), errors
    with reading(db.sessions) as session:
        [entry, _created] = db.repo.history(session, "p1").items
    assert entry.actor_id == f"u{won[0]}"


def test_unconditional_concurrent_updates_all_apply_one_after_another(db) -> None:
    db.create()

    def write(n: int) -> None:
        with transaction(db.sessions) as session:
            partial = contacts_pb2.Contact(company=f"Company {n}")
            db.repo.update(session, "p1", partial, ["company"], etag="", actor_id=f"u{n}")

    won, errors = race(WRITERS, write)
    assert (len(won), errors) == (WRITERS, [])
    with reading(db.sessions) as session:
        assert session.get(db.model, "p1").version == 1 + WRITERS
        assert len(db.repo.history(session, "p1", limit=50).items) == 1 + WRITERS
