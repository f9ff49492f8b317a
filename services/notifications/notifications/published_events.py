"""Events the notifications service publishes, each written to the outbox in the transaction that stored
the notification it announces (so the contacts timeline, for one, shows what was sent)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.events.v1 import notifications_pb2
from crm_platform.events import record_event
from crm_platform.protobuf import as_event_payload, timestamp
from notifications.store import Notification, messaging

SOURCE = "notifications"
NOTIFICATION_SENT = "notification_sent"
AGGREGATE = "notification"


def record_notification_sent(session: Session, notification: Notification) -> str:
    """`notification_sent` for a notification just stored (delivered to the in-app inbox); the event id."""
    return record_event(
        session,
        messaging,
        source=SOURCE,
        event_type=NOTIFICATION_SENT,
        aggregate_type=AGGREGATE,
        aggregate_id=notification.id,
        payload=as_event_payload(
            notifications_pb2.NotificationSent(
                notification_id=notification.id,
                contact_id=notification.contact_id,
                kind=notification.kind,
                channel=notification.channel,
                title=notification.title,
                body=notification.body,
                sent_at=timestamp(notification.created_at),
                owner_id=notification.owner_id or "",
                team_id=notification.team_id or "",
                partner_account_id=notification.partner_account_id or "",
            )
        ),
    )
