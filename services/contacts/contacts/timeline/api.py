"""TimelineService: a contact's timeline, newest first, paged by keyset and filtered (AIP-160).

Reading it needs to read the contact, in the caller's scope (crm_platform.access): a contact out of
scope, or one that does not exist, is NOT_FOUND; a partner user therefore reads only their own
account's contacts' timelines. Of a readable contact's timeline the caller sees only the entries whose
record they may read (timeline.store.visible: the read scope of each entry's own resource type), so
neither the list, nor a filter on `ref_id`, nor a page's length tells of an interaction, notification,
deal... out of their scope. A cursor is bound to the caller's view and to the contact, and every page
is filtered by the same scope.
"""

from __future__ import annotations

import json

import grpc
from google.protobuf import struct_pb2
from sqlalchemy import select

from contacts import store as contacts_store
from contacts.timeline.store import LIST_SPEC, TimelineEntry, visible
from crm.contacts.v1 import timeline_pb2, timeline_pb2_grpc
from crm_platform.access import CallerContext
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading
from crm_platform.listing import CursorCodec, ListRequest, list_page
from crm_platform.protobuf import timestamp
from crm_platform.resources import service_secret
from crm_platform.service import Runtime


def to_message(entry: TimelineEntry) -> timeline_pb2.TimelineEntry:
    details = struct_pb2.Struct()
    details.update(json.loads(entry.details or "{}"))
    return timeline_pb2.TimelineEntry(
        id=entry.id,
        contact_id=entry.contact_id,
        occurred_at=timestamp(entry.occurred_at),
        kind=entry.kind,
        source=entry.source,
        event_type=entry.event_type,
        title=entry.title,
        summary=entry.summary or "",
        ref_type=entry.ref_type or "",
        ref_id=entry.ref_id or "",
        actor_id=entry.actor_id or "",
        details=details,
        event_id=entry.event_id,
        resource_type=entry.resource_type,
    )


def cursor_binding(caller: CallerContext | None, contact_id: str) -> str:
    """What a cursor is good for: the same view (caller, partner account, teams) of the same contact."""
    if caller is None:
        return f"|{contact_id}"
    teams = ",".join(sorted(caller.team_ids))
    return "|".join((caller.subject, caller.partner_account_id or "", teams, contact_id))


class TimelineServicer(timeline_pb2_grpc.TimelineServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def ListTimelineEntries(
        self, request: timeline_pb2.ListTimelineEntriesRequest, context: grpc.ServicerContext
    ) -> timeline_pb2.ListTimelineEntriesResponse:
        caller = current_caller_or_none()
        asked = ListRequest(
            filter=request.filter,
            cursor=request.cursor,
            limit=request.limit,
            caller=cursor_binding(caller, request.contact_id),
        )
        codec = CursorCodec(service_secret(self.sessions, "cursor"))
        with reading(self.sessions) as session:
            # The gate: the contact, in the caller's scope (NOT_FOUND otherwise).
            contacts_store.contacts.read(session, request.contact_id, caller=caller)
            # Then each entry: its own record, in the caller's scope for that record's type.
            query = select(TimelineEntry).where(
                TimelineEntry.contact_id == request.contact_id, visible(caller)
            )
            page = list_page(session, query, LIST_SPEC, asked, codec)
            return timeline_pb2.ListTimelineEntriesResponse(
                items=[to_message(entry) for entry in page.items], next_cursor=page.next_cursor
            )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    timeline_pb2_grpc.add_TimelineServiceServicer_to_server(TimelineServicer(runtime), server)
    return [timeline_pb2.DESCRIPTOR.services_by_name["TimelineService"].full_name]
