"""Public web form submissions: how many a form takes, per client address and in all, within a window.

The limit is kept here, in the sales database, so that every gateway worker and every sales replica
counts the same submissions: a fixed window per (form, key), its count bumped under the row's lock. Over
the limit is RESOURCE_EXHAUSTED (RATE_LIMITED), which the gateway answers 429 with Retry-After.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import grpc
from sqlalchemy import Integer, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm_platform import config
from crm_platform.db import UtcDateTime, utcnow
from crm_platform.errors import DomainError
from sales.store import Base

ALL_ADDRESSES = "*"


@dataclass(frozen=True)
class Rate:
    """At most `count` submissions per `seconds`."""

    count: int
    seconds: int


def parse_rate(raw: str) -> Rate:
    """`5/60`: five per minute."""
    count, _, seconds = raw.partition("/")
    if not count.strip().isdigit() or not seconds.strip().isdigit() or int(seconds) <= 0:
        raise ValueError(f"expected <count>/<seconds>, e.g. 5/60, got {raw!r}")
    return Rate(int(count), int(seconds))


PER_ADDRESS = config.Setting(
    "SALES_WEB_FORM_RATE", parse_rate, default="5/60", help="web form submissions per form and client address"
)
PER_FORM = config.Setting(
    "SALES_WEB_FORM_FORM_RATE", parse_rate, default="300/60", help="web form submissions per form in all"
)


class RateLimited(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "RATE_LIMITED"


class FormHits(Base):
    """Submissions counted in the current window of one form and key (a hashed address, or "*")."""

    __tablename__ = "lead_form_hits"

    form_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    hits: Mapped[int] = mapped_column(Integer)


def address_key(address: str) -> str:
    # Hashed: the table is not a list of who submitted.
    return hashlib.sha256(address.encode()).hexdigest()[:40] if address else "unknown"


def _count(session: Session, form_id: str, key: str, rate: Rate, now: datetime) -> int:
    """The key's hits in its window, this one included."""
    row = session.get(FormHits, (form_id, key), with_for_update=True, populate_existing=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(FormHits(form_id=form_id, key=key, window_start=now, hits=1))
            return 1
        except IntegrityError:  # a concurrent first submission made the row: count on it
            row = session.get(FormHits, (form_id, key), with_for_update=True, populate_existing=True)
            assert row is not None
    if now - row.window_start >= timedelta(seconds=rate.seconds):
        row.window_start, row.hits = now, 0
    row.hits += 1
    session.flush()
    return row.hits


def admit(session: Session, form_id: str, client_address: str) -> None:
    """Counts the submission; RateLimited when its address or the form is over its limit."""
    now = utcnow()
    for key, rate, who in (
        (address_key(client_address), PER_ADDRESS.get(), "from your address"),
        (ALL_ADDRESSES, PER_FORM.get(), "for this form"),
    ):
        if _count(session, form_id, key, rate, now) > rate.count:
            raise RateLimited(f"too many submissions {who}; try again in a minute")
