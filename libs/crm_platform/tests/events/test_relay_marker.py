"""The relay sends without waiting for confirms and marks from a thread of its own; a confirmed row whose
marking fails for a while is neither sent again by the relay nor overtaken by its aggregate's next event."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.exc import OperationalError

from crm_platform.db import transaction
from crm_platform.events import record_event, relay_marker


def _record(db, aggregate_id: str) -> str:
    with transaction(db.factory) as session:
        return record_event(
            session,
            db.tables,
            source="contacts",
            event_type="contact_updated",
            aggregate_type="contact",
            aggregate_id=aggregate_id,
            payload={"aggregate": aggregate_id},
        )


def test_a_row_whose_marking_fails_is_not_resent_and_holds_back_its_successor(
    db, broker, start_relay, wait_for, monkeypatch: pytest.MonkeyPatch
):
    probe = broker.bind_probe("contacts", "contact_updated")
    real_mark = relay_marker.mark_published
    failing = {"left": 3}

    def flaky_mark(*args, **kwargs):
        if failing["left"] > 0:
            failing["left"] -= 1
            raise OperationalError("UPDATE event_outbox", {}, Exception("database is down"))
        return real_mark(*args, **kwargs)

    monkeypatch.setattr(relay_marker, "mark_published", flaky_mark)
    monkeypatch.setattr(relay_marker, "_RETRY_DELAY", 0.2)
    first = _record(db, "c1")
    second = _record(db, "c1")
    other = _record(db, "c2")
    start_relay(broker.url, poll_interval=0.01)
    wait_for(lambda: db.unpublished() == 0, what="every row marked once the database answers")
    time.sleep(0.2)  # anything sent twice would have arrived by now
    order = [props.message_id for props, _ in broker.take_all(probe)]
    assert sorted(order) == sorted([first, second, other])  # each once: no resend while unmarked
    assert order.index(first) < order.index(second)  # the successor waited for its predecessor's mark
    assert failing["left"] == 0


def test_stopping_marks_what_was_confirmed(db, broker, start_relay, wait_for):
    probe = broker.bind_probe("contacts", "contact_updated")
    ids = [_record(db, f"c{i}") for i in range(50)]
    relay = start_relay(broker.url, poll_interval=0.01)
    wait_for(lambda: broker.count(probe) == len(ids), what="all 50 delivered")
    relay.stop()
    assert db.unpublished() == 0
