"""The notifications gRPC servicer. Every read is scoped to the caller (store.visible): PERMISSION_DENIED
when they may not read notifications at all, and out of scope looks like not there."""

from __future__ import annotations

from typing import Any

import grpc

from crm.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from crm_platform.access import require
from crm_platform.access.context import current_caller
from crm_platform.db import reading, reading_connection
from crm_platform.pagination import clamp_limit
from crm_platform.protobuf import timestamp
from crm_platform.service import Runtime
from notifications import store
from notifications.domain import RESOURCE_TYPE


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
        owner_id=n.owner_id or "",
        team_id=n.team_id or "",
        partner_account_id=n.partner_account_id or "",
    )


class NotificationsServicer(notifications_pb2_grpc.NotificationsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def ListNotifications(
        self, request: notifications_pb2.ListNotificationsRequest, context: grpc.ServicerContext
    ) -> notifications_pb2.ListNotificationsResponse:
        caller = current_caller()
        require(caller, RESOURCE_TYPE, "read")
        limit = clamp_limit(request.limit)
        with reading_connection(self.sessions) as connection:
            page = store.list_notifications(connection, caller, request.contact_id, limit, request.cursor)
            return notifications_pb2.ListNotificationsResponse(
                items=[to_message(n) for n in page.items], next_cursor=page.next_cursor
            )

    def GetNotification(
        self, request: notifications_pb2.GetNotificationRequest, context: grpc.ServicerContext
    ) -> notifications_pb2.Notification:
        caller = current_caller()
        with reading(self.sessions) as session:
            return to_message(store.get_notification(session, caller, request.id))


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    notifications_pb2_grpc.add_NotificationsServiceServicer_to_server(NotificationsServicer(runtime), server)
    return [notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"].full_name]
