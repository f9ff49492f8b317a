"""The standard methods of one resource (AIP-131 to 135, plus history), written once for every service.

A servicer method of a resource becomes one line that says what is particular to it:

    contacts = StandardMethods(runtime.sessions, store.contacts, contacts_pb2.Contact,
                               list_spec=store.LIST_SPEC, listed=store.active_contacts,
                               events=ResourceEvents(created=events.record_contact_created, ...))

    def GetContact(self, request, context):
        return contacts.get(request.id)
    def ListContacts(self, request, context):
        return contacts_pb2.ListContactsResponse(**contacts.list(request))
    def CreateContact(self, request, context):
        return contacts.create(context, request, add=...)
    def UpdateContact(self, request, context):
        return contacts.update(context, request, request.contact)
    def DeleteContact(self, request, context):
        return contacts.delete(context, request)

What each gives: writes run in `idempotent_write` (an `Idempotency-Key` replays the first answer), carry
the caller as the actor into history and events, and publish their event only when something changed;
reads run in read-only transactions; lists use the resource's allow-listed filter and order, and cursors
signed with the service's own key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import grpc
from google.protobuf import empty_pb2
from google.protobuf.message import Message
from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from crm.common.v1 import history_pb2
from crm_platform.access import CallerContext, Ownership, assign_ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading, reading_connection
from crm_platform.listing import CursorCodec, ListRequest, ListSpec
from crm_platform.resources.idempotency import idempotent_write
from crm_platform.resources.repository import OWNERSHIP_FIELDS, Change, Repository
from crm_platform.resources.secret import service_secret
from crm_platform.validation import required

Row = TypeVar("Row")
M = TypeVar("M", bound=Message)
Recorder = Callable[[Session, Change[Any]], Any]


class ListRequestMessage(Protocol):
    filter: str
    order_by: str
    cursor: str
    limit: int


def actor_of(context: grpc.ServicerContext) -> str:
    """Who is making the call: the verified caller's subject; "" for the system."""
    caller = current_caller_or_none()
    return caller.subject if caller is not None else ""


def ownership_for_create(repository: Repository[Any, Any], request: Message) -> Ownership | None:
    """The owner, team and partner account a new record gets: what the request asks for (fields of
    the same names, when the Create request has them), checked against the caller's create level."""
    caller = current_caller_or_none()
    if caller is None or repository.ownership is None:
        return None
    asked = {name: getattr(request, name, "") or None for name in OWNERSHIP_FIELDS}
    return assign_ownership(caller, repository.resource_type, "create", **asked)


@dataclass(frozen=True)
class ResourceEvents:
    """How a resource's changes are announced: each writes its event to the outbox in the change's
    transaction (None: that change publishes nothing)."""

    created: Recorder | None = None
    updated: Recorder | None = None
    archived: Recorder | None = None


class StandardMethods(Generic[Row, M]):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        repository: Repository[Row, M],
        message: type[M],
        *,
        list_spec: ListSpec | Callable[[Session, ListRequest], ListSpec],
        listed: Callable[[], Select[Any]],
        events: ResourceEvents = ResourceEvents(),
    ) -> None:
        self.sessions = sessions
        self.repository = repository
        self.message = message
        # A spec, or what makes one per request from the database (an allow-list that changes at run
        # time, e.g. with custom fields), called inside the list's read transaction.
        self.list_spec = list_spec
        self.listed = listed  # the query lists start from (e.g. active rows only)
        self.events = events

    def get(self, resource_id: str) -> M:
        with reading_connection(self.sessions) as connection:
            row = self.repository.read(connection, resource_id, caller=current_caller_or_none())
            return self.repository.to_message(row)

    def list(self, request: ListRequestMessage) -> dict[str, Any]:
        """`items` and `next_cursor`, ready for the List response message."""
        caller = current_caller_or_none()
        asked = self.list_request(request)
        codec = self.cursor_codec()
        with reading(self.sessions) as session:
            spec = self.spec_for(session, asked)
            page = self.repository.list_page(session, self.listed(), spec, asked, codec, caller=caller)
            return {
                "items": [self.repository.to_message(row) for row in page.items],
                "next_cursor": page.next_cursor,
            }

    def list_request(self, request: ListRequestMessage) -> ListRequest:
        """The list parameters of `request`, bound to the current caller's view."""
        return ListRequest(
            filter=request.filter,
            order_by=request.order_by,
            cursor=request.cursor,
            limit=request.limit,
            caller=cursor_owner(current_caller_or_none()),
        )

    def cursor_codec(self) -> CursorCodec:
        # Shared by every replica through the service's database; cached per process after the first call.
        return CursorCodec(service_secret(self.sessions, "cursor"))

    def spec_for(self, session: Session, asked: ListRequest) -> ListSpec:
        """The list spec of this request (in its read transaction, for a spec made per request)."""
        return self.list_spec if isinstance(self.list_spec, ListSpec) else self.list_spec(session, asked)

    def create(
        self,
        context: grpc.ServicerContext,
        request: Message,
        *,
        add: Callable[[Session, str, Ownership | None], Change[Row]],
    ) -> M:
        """`add(session, actor_id, ownership)` inserts the row (through the repository's `create`);
        `ownership` is what the record gets (None for a resource without ownership columns)."""
        ownership = ownership_for_create(self.repository, request)
        with idempotent_write(self.sessions, context, request, self.message) as write:
            if write.replay is not None:
                return write.replay
            change = add(write.session, actor_of(context), ownership)
            self._announce(self.events.created, write.session, change)
            return write.respond(self.repository.to_message(change.row))

    def update(
        self,
        context: grpc.ServicerContext,
        request: Any,
        resource: M,
        *,
        apply: Callable[..., Change[Row]] | None = None,
        prepare: Callable[[M], None] | None = None,
    ) -> M:
        """Applies `request.update_mask` of `resource` (its `id` names the row, its `etag` the
        precondition). `apply` replaces the repository's `update` where the service checks more (it takes
        the same arguments); `prepare` runs the domain's rules on the merged resource."""
        apply = apply or self.repository.update
        # The interceptor left the partial resource unchecked; its id must still name something.
        field = f"{self.repository.request_field}.id" if self.repository.request_field else "id"
        resource_id = required(resource.id, field)  # type: ignore[attr-defined]
        with idempotent_write(self.sessions, context, request, self.message) as write:
            if write.replay is not None:
                return write.replay
            change = apply(
                write.session,
                resource_id,
                resource,
                list(request.update_mask.paths),
                etag=resource.etag,  # type: ignore[attr-defined]
                actor_id=actor_of(context),
                prepare=prepare,
                caller=current_caller_or_none(),
            )
            if change.changes:  # an update that changed nothing is not news
                self._announce(self.events.updated, write.session, change)
            return write.respond(self.repository.to_message(change.row))

    def delete(self, context: grpc.ServicerContext, request: Any) -> empty_pb2.Empty:
        """Archives the resource named by `request.id` if `request.etag` is current (empty: always)."""
        with idempotent_write(self.sessions, context, request, empty_pb2.Empty) as write:
            if write.replay is not None:
                return write.replay
            change = self.repository.archive(
                write.session,
                request.id,
                etag=request.etag,
                actor_id=actor_of(context),
                caller=current_caller_or_none(),
            )
            if change.changes:  # archiving an archived resource changes nothing
                self._announce(self.events.archived, write.session, change)
            return write.respond(empty_pb2.Empty())

    def history(self, request: history_pb2.ListHistoryRequest) -> history_pb2.ListHistoryResponse:
        with reading(self.sessions) as session:
            return self.repository.history(
                session, request.id, request.limit, request.cursor, caller=current_caller_or_none()
            )

    @staticmethod
    def _announce(recorder: Recorder | None, session: Session, change: Change[Any]) -> None:
        if recorder is not None:
            recorder(session, change)


def cursor_owner(caller: CallerContext | None) -> str:
    # Everything that changes what a caller sees: a cursor is only good for the same view.
    if caller is None:
        return ""
    return "|".join((caller.subject, caller.partner_account_id or "", ",".join(sorted(caller.team_ids))))
