"""Per-service secrets: created once in the service's database, the same for every replica."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from crm_platform.db import make_engine, make_session_factory, reading
from crm_platform.resources import secret, service_secret


def test_a_secret_is_32_random_bytes_created_once(db) -> None:
    key = service_secret(db.sessions, "cursor")
    assert len(key) == 32
    assert service_secret(db.sessions, "cursor") == key
    assert service_secret(db.sessions, "other") != key


def test_every_replica_reads_the_one_stored_secret(db) -> None:
    key = service_secret(db.sessions, "cursor")
    secret._cache.clear()  # as a fresh process would start
    other_replica = make_engine(db.engine.url.render_as_string(hide_password=False))
    try:
        assert service_secret(make_session_factory(other_replica), "cursor") == key
    finally:
        other_replica.dispose()


def test_replicas_racing_to_create_it_agree(db) -> None:
    replicas = 8
    engines = [make_engine(db.engine.url.render_as_string(hide_password=False)) for _ in range(replicas)]
    start = threading.Barrier(replicas)
    keys: list[bytes] = []

    def replica(n: int) -> None:
        start.wait()
        # Uncached, as separate processes would: the database alone must settle the race.
        keys.append(secret.load_or_create(make_session_factory(engines[n]), "race"))

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for engine in engines:
        engine.dispose()
    assert len(keys) == replicas and len(set(keys)) == 1
    with reading(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(db.tables.platform_secrets)) == 1
