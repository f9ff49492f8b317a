"""InteractionsService: an interaction is logged under a contact, and every method reads that contact
first, in the caller's scope (out of scope, or no such contact: NOT_FOUND), then acts on the interaction
through the chassis' standard methods (its own scope, resource type `interaction`: etag, field mask,
history, idempotency, the events in the change's transaction). An interaction named under another
contact than its own is NOT_FOUND too.

Ownership: the caller and their primary team unless the request names others (checked against the
caller's `interaction` create level), and always the contact's partner account, so a partner's
customer's interactions are that partner's and nobody else's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import empty_pb2
from sqlalchemy.orm import Session

from contacts import store as contacts_store
from contacts.interactions import events, store
from contacts.interactions.store import KINDS, Interaction, interactions
from contacts.merge.guard import contention_aborts, lock_live, refuse_merged
from contacts.merge.tombstones import read_live
from crm.common.v1 import history_pb2
from crm.contacts.v1 import interactions_pb2, interactions_pb2_grpc
from crm_platform.access import CallerContext, Ownership, assign_ownership
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading
from crm_platform.errors import FailedPrecondition, InvalidArgument, NotFound
from crm_platform.listing import CursorCodec, ListRequest
from crm_platform.protobuf import client_datetime
from crm_platform.resources import Change, ResourceEvents, StandardMethods, service_secret
from crm_platform.service import Runtime

PARTNER_RULE = "must be the contact's partner account (or left out)"


def _contact(session: Session, contact_id: str, caller: CallerContext | None, *, write: bool = False) -> Any:
    """The contact, if the caller may read it; NOT_FOUND otherwise (whether or not it exists). A merged
    contact answers as its tombstone does (contacts.merge): to a read MOVED to the survivor (REST 308,
    the path's contact id replaced), to a write MergedInto naming it (409)."""
    if not write:
        return read_live(session.connection(), contacts_store.contacts, contact_id, caller)
    row = contacts_store.contacts.read(session, contact_id, caller=caller)
    refuse_merged(session, contacts_store.contacts, row, caller)
    return row


def _not_found(interaction_id: str) -> NotFound:
    return NotFound(
        f"interaction {interaction_id} not found", resource_type="interaction", resource_name=interaction_id
    )


def _check_rules(interaction: interactions_pb2.Interaction, contact: Any) -> None:
    """An updated interaction's rules, naming its fields (the update prefixes them as the request does)."""
    errors = {}
    if not KINDS.get(interaction.kind):
        errors["kind"] = "is required"
    if interaction.partner_account_id != (contact.partner_account_id or ""):
        errors["partner_account_id"] = PARTNER_RULE
    try:
        client_datetime(interaction.occurred_at, "occurred_at")
    except InvalidArgument as error:
        errors.update(error.fields)
    if errors:
        raise InvalidArgument("invalid interaction", errors)


class InteractionsServicer(interactions_pb2_grpc.InteractionsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions
        self.methods = StandardMethods(
            runtime.sessions,
            interactions,
            interactions_pb2.Interaction,
            list_spec=store.LIST_SPEC,
            listed=lambda: store.active_interactions(""),  # lists go through ListInteractions below
            events=ResourceEvents(
                created=events.record_interaction_logged,
                updated=events.record_interaction_updated,
                archived=events.record_interaction_archived,
            ),
        )

    def _belongs(self, contact_id: str, interaction_id: str, *, write: bool = False) -> None:
        """NOT_FOUND unless the caller may read the contact and the interaction, and it is the
        contact's (an interaction's contact changes only when a merge moves it, and then the contact is
        merged: refused as `_contact` says)."""
        caller = current_caller_or_none()
        with reading(self.sessions) as session:
            _contact(session, contact_id, caller, write=write)
            row = interactions.read(session, interaction_id, caller=caller)
            if row.contact_id != contact_id:
                raise _not_found(interaction_id)

    @contention_aborts
    def CreateInteraction(
        self, request: interactions_pb2.CreateInteractionRequest, context: grpc.ServicerContext
    ) -> interactions_pb2.Interaction:
        caller = current_caller_or_none()

        def add(session: Session, actor_id: str, _: Ownership | None) -> Change[Any]:
            # Share-locked until the interaction commits, so a merge moves it or this refuses
            # (contacts.merge.guard).
            contact = lock_live(session, contacts_store.contacts, request.contact_id, caller)
            if contact.archived_at is not None:
                raise FailedPrecondition(f"contact {request.contact_id} is archived")
            partner = contact.partner_account_id
            if request.partner_account_id not in ("", partner or ""):
                raise InvalidArgument("invalid interaction", {"partner_account_id": PARTNER_RULE})
            ownership = (
                assign_ownership(
                    caller,
                    interactions.resource_type,
                    "create",
                    owner_id=request.owner_id or None,
                    team_id=request.team_id or None,
                    partner_account_id=partner,
                )
                if caller is not None
                else Ownership(request.owner_id or None, request.team_id or None, partner)
            )
            occurred = (
                client_datetime(request.occurred_at, "occurred_at")
                if request.HasField("occurred_at")
                else datetime.now(UTC)
            )
            row = Interaction(
                id=str(uuid.uuid4()),
                contact_id=contact.id,
                kind=KINDS[request.kind] or "",
                direction=store.DIRECTIONS.get(request.direction),
                channel=request.channel or None,
                occurred_at=occurred,
                duration_seconds=request.duration_seconds or None,
                subject=request.subject or None,
                summary=request.summary or None,
                outcome=request.outcome or None,
                deal_id=request.deal_id or None,
                ticket_id=request.ticket_id or None,
                actor_id=actor_id or None,
                owner_id=ownership.owner_id,
                team_id=ownership.team_id,
                partner_account_id=ownership.partner_account_id,
            )
            return interactions.create(session, row, actor_id)

        return self.methods.create(context, request, add=add)

    def GetInteraction(
        self, request: interactions_pb2.GetInteractionRequest, context: grpc.ServicerContext
    ) -> interactions_pb2.Interaction:
        caller = current_caller_or_none()
        with reading(self.sessions) as session:
            _contact(session, request.contact_id, caller)
            row = interactions.read(session, request.id, caller=caller)
            if row.contact_id != request.contact_id:
                raise _not_found(request.id)
            return interactions.to_message(row)

    def ListInteractions(
        self, request: interactions_pb2.ListInteractionsRequest, context: grpc.ServicerContext
    ) -> interactions_pb2.ListInteractionsResponse:
        caller = current_caller_or_none()
        asked = ListRequest(
            filter=request.filter,
            order_by=request.order_by,
            cursor=request.cursor,
            limit=request.limit,
            caller=_cursor_binding(caller, request.contact_id),
        )
        codec = CursorCodec(service_secret(self.sessions, "cursor"))
        with reading(self.sessions) as session:
            _contact(session, request.contact_id, caller)
            page = interactions.list_page(
                session,
                store.active_interactions(request.contact_id),
                store.LIST_SPEC,
                asked,
                codec,
                caller=caller,
            )
            return interactions_pb2.ListInteractionsResponse(
                items=[interactions.to_message(row) for row in page.items], next_cursor=page.next_cursor
            )

    @contention_aborts
    def UpdateInteraction(
        self, request: interactions_pb2.UpdateInteractionRequest, context: grpc.ServicerContext
    ) -> interactions_pb2.Interaction:
        resource = request.interaction
        contact_id = resource.contact_id
        if not contact_id:
            raise InvalidArgument("invalid interaction", {"interaction.contact_id": "is required"})
        caller = current_caller_or_none()
        if resource.id:
            self._belongs(contact_id, resource.id, write=True)
        with reading(self.sessions) as session:
            contact = _contact(session, contact_id, caller, write=True)

        def prepare(merged: interactions_pb2.Interaction) -> None:
            if merged.contact_id != contact_id:
                raise InvalidArgument("invalid interaction", {"contact_id": "is fixed once logged"})
            # Named relative to the interaction: the update names them as the request does
            # (`interaction.kind`).
            _check_rules(merged, contact)

        def apply(session: Session, *args: Any, **options: Any) -> Change[Any]:
            # The contact cannot be merged (moving the interaction) between the checks above and this
            # update: it is share-locked first, and refused if a merge got in before.
            lock_live(session, contacts_store.contacts, contact_id, caller)
            return interactions.update(session, *args, **options)

        return self.methods.update(context, request, resource, apply=apply, prepare=prepare)

    @contention_aborts
    def DeleteInteraction(
        self, request: interactions_pb2.DeleteInteractionRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        # A merge that moves the interaction meanwhile leaves it the same row: deleting it is still
        # what the caller asked.
        self._belongs(request.contact_id, request.id, write=True)
        return self.methods.delete(context, request)

    def ListInteractionHistory(
        self, request: interactions_pb2.ListInteractionHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        self._belongs(request.contact_id, request.id)
        return self.methods.history(
            history_pb2.ListHistoryRequest(id=request.id, limit=request.limit, cursor=request.cursor)
        )


def _cursor_binding(caller: CallerContext | None, contact_id: str) -> str:
    """A cursor is good for the same view (caller, partner account, teams) of the same contact."""
    if caller is None:
        return f"|{contact_id}"
    teams = ",".join(sorted(caller.team_ids))
    return "|".join((caller.subject, caller.partner_account_id or "", teams, contact_id))


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    interactions_pb2_grpc.add_InteractionsServiceServicer_to_server(InteractionsServicer(runtime), server)
    return [interactions_pb2.DESCRIPTOR.services_by_name["InteractionsService"].full_name]
