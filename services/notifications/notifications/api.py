"""The notifications gRPC servicer."""

from __future__ import annotations

from typing import Any

import grpc

from crm.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from crm_platform.db import reading
from crm_platform.pagination import clamp_limit
from crm_platform.protobuf import timestamp
from crm_platform.service import Runtime
from crm_platform.validation import required
from notifications import store


def to_message(n: Any) -> notifications_pb2.Notification:
    """A notification (model instance or row) as its contract message."""
    return notifications_pb2.Notification(
        id=n.id,
        contact_id=n.contact_id,
        kind=n.kind,
        channel=n.channel,
        title=n.title,
        body=n.body,
        created_at=timestamp(n.created_at),
        source_event_id=n.source_event_id,
    )


class NotificationsServicer(notifications_pb2_grpc.NotificationsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def ListNotifications(
        self, request: notifications_pb2.ListNotificationsRequest, context: grpc.ServicerContext
    ) -> notifications_pb2.ListNotificationsResponse:
        contact_id = required(request.contact_id, "contact_id")
        limit = clamp_limit(request.limit)
        with reading(self.sessions) as session:
            page = store.list_for_contact(session, contact_id, limit, request.cursor)
            return notifications_pb2.ListNotificationsResponse(
                items=[to_message(n) for n in page.items], next_cursor=page.next_cursor
            )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    notifications_pb2_grpc.add_NotificationsServiceServicer_to_server(NotificationsServicer(runtime), server)
    return [notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"].full_name]
