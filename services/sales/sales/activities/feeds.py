"""CalendarFeedsService: a user's secret calendar feed addresses, and the feed itself.

The token is the credential of the feed's address (a calendar app sends no bearer token): 256 random
bits, shown once in CreateCalendarFeed's answer, kept only as its SHA-256 (a replayed create answers the
feed without it; the token is never stored). Deleting a feed revokes it at once. The gateway's public
route `GET /api/v1/calendar-feeds/{token}/calendar.ics` asks RenderCalendarFeed with a service context of
its own; the token alone decides whose calendar is answered: the feed's user's appointments (from
FEED_PAST_DAYS ago on) and open tasks with a due time, at most FEED_LIMIT of each, soonest first.

Whether that user is still active is not sales' to know: the gateway's identity keeps it. The answer
names the feed (a `CalendarFeed` without its token, in the HttpBody's `extensions`), and the gateway's
route serves it only while the feed's user is active (a deactivated user's feed answers 404).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import grpc
from google.api import httpbody_pb2
from google.protobuf import empty_pb2
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from crm.sales.v1 import activities_pb2, activities_pb2_grpc
from crm_platform.access import USER, CallerContext, Level
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading, transaction, utcnow
from crm_platform.errors import NotFound, PermissionDenied
from crm_platform.resources import idempotent_write
from sales.activities import ical
from sales.activities.store import (
    APPOINTMENT,
    OPEN,
    TASK,
    AppointmentRow,
    CalendarFeedRow,
    TaskRow,
    feed_message,
)

TOKEN_BYTES = 32
FEED_PAST_DAYS = 90
FEED_LIMIT = 2000
MAX_FEEDS_PER_USER = 20
LAST_READ_INTERVAL = timedelta(minutes=1)


def feed_path(token: str) -> str:
    return f"/api/v1/calendar-feeds/{token}/calendar.ics"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _feed_owner() -> CallerContext:
    """A feed belongs to a signed-in user who may read tasks or appointments (not to an integration)."""
    caller = current_caller_or_none()
    if caller is None or caller.kind != USER:
        raise PermissionDenied("calendar feeds are issued to users")
    if max(caller.level(TASK, "read"), caller.level(APPOINTMENT, "read")) is Level.NONE:
        raise PermissionDenied("you may not read tasks or appointments")
    return caller


def _not_found(name: str) -> NotFound:
    return NotFound(f"calendar feed {name} not found", resource_type="calendar_feed", resource_name=name)


class CalendarFeedsServicer(activities_pb2_grpc.CalendarFeedsServiceServicer):
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def CreateCalendarFeed(
        self, request: activities_pb2.CreateCalendarFeedRequest, context: grpc.ServicerContext
    ) -> activities_pb2.CalendarFeed:
        caller = _feed_owner()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with idempotent_write(self.sessions, context, request, activities_pb2.CalendarFeed) as write:
            if write.replay is not None:
                return write.replay
            count = len(
                write.session.scalars(
                    select(CalendarFeedRow.id).where(CalendarFeedRow.user_id == caller.subject)
                ).all()
            )
            if count >= MAX_FEEDS_PER_USER:
                raise PermissionDenied(f"you have {count} calendar feeds: delete one first")
            row = CalendarFeedRow(
                id=str(uuid.uuid4()),
                user_id=caller.subject,
                name=request.name.strip() or None,
                token_hash=token_hash(token),
                created_at=utcnow(),
            )
            write.session.add(row)
            write.session.flush()
            # Stored for a replay without the token; answered with it this once.
            write.respond(feed_message(row))
            return feed_message(row, token=token, url=feed_path(token))

    def ListCalendarFeeds(
        self, request: activities_pb2.ListCalendarFeedsRequest, context: grpc.ServicerContext
    ) -> activities_pb2.ListCalendarFeedsResponse:
        caller = _feed_owner()
        with reading(self.sessions) as session:
            rows = session.scalars(
                select(CalendarFeedRow)
                .where(CalendarFeedRow.user_id == caller.subject)
                .order_by(CalendarFeedRow.created_at.desc(), CalendarFeedRow.id)
            ).all()
            return activities_pb2.ListCalendarFeedsResponse(items=[feed_message(r) for r in rows])

    def DeleteCalendarFeed(
        self, request: activities_pb2.DeleteCalendarFeedRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        """Another user's feed is NOT_FOUND; deleting a deleted feed too (there is nothing left of it)."""
        caller = _feed_owner()
        with idempotent_write(self.sessions, context, request, empty_pb2.Empty) as write:
            if write.replay is not None:
                return write.replay
            gone = write.session.execute(
                delete(CalendarFeedRow).where(
                    CalendarFeedRow.id == request.id, CalendarFeedRow.user_id == caller.subject
                )
            )
            if gone.rowcount != 1:  # type: ignore[attr-defined]
                raise _not_found(request.id)
            return write.respond(empty_pb2.Empty())

    def RenderCalendarFeed(
        self, request: activities_pb2.RenderCalendarFeedRequest, context: grpc.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        now = utcnow()
        with reading(self.sessions) as session:
            feed = session.scalars(
                select(CalendarFeedRow).where(CalendarFeedRow.token_hash == token_hash(request.token))
            ).one_or_none()
            if feed is None:
                raise _not_found("for this token")
            appointments = session.execute(
                select(AppointmentRow.__table__)
                .where(
                    AppointmentRow.owner_id == feed.user_id,
                    AppointmentRow.archived_at.is_(None),
                    AppointmentRow.start_at >= now - timedelta(days=FEED_PAST_DAYS),
                )
                .order_by(AppointmentRow.start_at, AppointmentRow.id)
                .limit(FEED_LIMIT)
            ).all()
            tasks = session.execute(
                select(TaskRow.__table__)
                .where(
                    TaskRow.owner_id == feed.user_id,
                    TaskRow.archived_at.is_(None),
                    TaskRow.status == OPEN,
                    TaskRow.due_at.is_not(None),
                )
                .order_by(TaskRow.due_at, TaskRow.id)
                .limit(FEED_LIMIT)
            ).all()
            feed_id, last_read_at = feed.id, feed.last_read_at
            whose = feed_message(feed)
            body = ical.render(feed.name or "CRM", appointments, tasks, now)
        if last_read_at is None or now - last_read_at >= LAST_READ_INTERVAL:
            self._record_read(feed_id, now)
        answer = httpbody_pb2.HttpBody(content_type=ical.CONTENT_TYPE, data=body)
        answer.extensions.add().Pack(whose)  # whose feed it is, for the gateway's check of the user
        return answer

    def _record_read(self, feed_id: str, now: datetime) -> None:
        # At most about once a minute per feed, whoever reads it: calendar apps poll.
        with transaction(self.sessions) as session:
            session.execute(
                update(CalendarFeedRow)
                .where(
                    CalendarFeedRow.id == feed_id,
                    or_(
                        CalendarFeedRow.last_read_at.is_(None),
                        CalendarFeedRow.last_read_at < now - LAST_READ_INTERVAL,
                    ),
                )
                .values(last_read_at=now)
            )
