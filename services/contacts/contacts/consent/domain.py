"""The rules of consent, plain Python: what may be recorded and how the current state is derived."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

CHANNELS = ("email", "sms", "phone", "post")
PURPOSES = ("marketing", "service")
RECORDABLE = ("granted", "withdrawn")
UNKNOWN = "unknown"


class Recorded(Protocol):
    id: str
    channel: str
    purpose: str
    status: str
    source: str
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class State:
    channel: str
    purpose: str
    status: str
    record: Recorded | None = None


def _order(record: Recorded) -> tuple[datetime, datetime, str]:
    # The latest given or withdrawn wins; a record entered later about an earlier moment does not
    # override what the contact said since. Ties: the later recorded, then the id (deterministic).
    return (record.occurred_at, record.recorded_at, record.id)


def current_state(records: Iterable[Recorded]) -> list[State]:
    """One state per channel and purpose, in CHANNELS x PURPOSES order; `unknown` where none recorded."""
    latest: dict[tuple[str, str], Recorded] = {}
    for record in records:
        key = (record.channel, record.purpose)
        if key not in latest or _order(record) > _order(latest[key]):
            latest[key] = record
    states = []
    for channel in CHANNELS:
        for purpose in PURPOSES:
            found = latest.get((channel, purpose))
            states.append(State(channel, purpose, found.status if found else UNKNOWN, found))
    return states
