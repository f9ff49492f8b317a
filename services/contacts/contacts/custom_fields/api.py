"""The custom field definitions' gRPC servicer (`crm.contacts.v1.CustomFieldsService`), served by the
contacts service.

Definitions are the CRM's schema: reading them needs the read right on `custom_field` (every built-in
role has it), changing them a level of `all` for the action (admins; crm_platform.access.rights). Name,
resource and type never change (values were checked against them); a choice still held by a record
cannot be removed, and a definition is deleted only when no record holds a value for it (FAILED_
PRECONDITION otherwise: nothing is lost by accident). Every change bumps the catalogue version, which
every process's cache of the definitions compares against (catalogue.py).
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contacts.custom_fields import domain, store
from crm.common.v1 import history_pb2
from crm.contacts.v1 import custom_fields_pb2, custom_fields_pb2_grpc
from crm_platform.access import Level
from crm_platform.access.context import current_caller_or_none
from crm_platform.db import reading
from crm_platform.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied
from crm_platform.resources import (
    Action,
    Change,
    FieldChange,
    actor_of,
    check_etag,
    idempotent_write,
    list_history,
    record_change,
)
from crm_platform.service import Runtime, ServiceDefinition

RESOURCE_TYPE = store.definitions.resource_type
IMMUTABLE = ("resource", "name", "type")


def _require(action: str, level: Level) -> None:
    """The caller needs at least `level` for `action` on definitions (no caller: trusted internal code)."""
    caller = current_caller_or_none()
    if caller is not None and caller.level(RESOURCE_TYPE, action) < level:
        who = "admins" if level is Level.ALL else "callers with the read right on custom fields"
        raise PermissionDenied(f"only {who} may {action} custom fields")


class NameTaken(AlreadyExists):
    def __init__(self, resource: str, name: str) -> None:
        super().__init__(f"{resource} already have a custom field named {name}", resource_type=RESOURCE_TYPE)


class CustomFieldsServicer(custom_fields_pb2_grpc.CustomFieldsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def CreateCustomField(
        self, request: custom_fields_pb2.CreateCustomFieldRequest, context: grpc.ServicerContext
    ) -> custom_fields_pb2.CustomField:
        _require("create", Level.ALL)
        row = store.new_definition(request)
        row.choices = list(domain.check_choices(row.type, request.choices)) or None
        with idempotent_write(self.sessions, context, request, custom_fields_pb2.CustomField) as write:
            if write.replay is not None:
                return write.replay
            session = write.session
            if store.name_taken(session, row.resource, row.name):
                raise NameTaken(row.resource, row.name)
            if store.count_definitions(session, row.resource) >= domain.MAX_FIELDS_PER_RESOURCE:
                raise FailedPrecondition(
                    f"{row.resource} already have {domain.MAX_FIELDS_PER_RESOURCE} custom fields, the most "
                    "they may have"
                )
            try:
                change = store.definitions.create(session, row, actor_of(context))
            except IntegrityError:  # a concurrent create of the same name won the unique index
                raise NameTaken(row.resource, row.name) from None
            store.bump_catalogue(session)
            return write.respond(store.to_message(change.row))

    def GetCustomField(
        self, request: custom_fields_pb2.GetCustomFieldRequest, context: grpc.ServicerContext
    ) -> custom_fields_pb2.CustomField:
        _require("read", Level.OWN)
        with reading(self.sessions) as session:
            return store.to_message(store.definitions.get(session, request.id))

    def ListCustomFields(
        self, request: custom_fields_pb2.ListCustomFieldsRequest, context: grpc.ServicerContext
    ) -> custom_fields_pb2.ListCustomFieldsResponse:
        _require("read", Level.OWN)
        resource = store.RESOURCE_NAMES.get(request.resource) or ""
        with reading(self.sessions) as session:
            rows = store.all_definitions(session, resource)
            return custom_fields_pb2.ListCustomFieldsResponse(items=[store.to_message(r) for r in rows])

    def UpdateCustomField(
        self, request: custom_fields_pb2.UpdateCustomFieldRequest, context: grpc.ServicerContext
    ) -> custom_fields_pb2.CustomField:
        _require("update", Level.ALL)
        partial = request.custom_field
        with idempotent_write(self.sessions, context, request, custom_fields_pb2.CustomField) as write:
            if write.replay is not None:
                return write.replay
            session = write.session

            def prepare(merged: custom_fields_pb2.CustomField) -> None:
                row = session.get(store.CustomFieldDefinition, partial.id)
                assert row is not None  # loaded and locked by the repository before merging
                before = store.to_message(row)
                changed = [name for name in IMMUTABLE if getattr(merged, name) != getattr(before, name)]
                if changed:
                    raise InvalidArgument(
                        "a custom field's resource, name and type cannot change",
                        dict.fromkeys(changed, "cannot change: delete the field and define a new one"),
                    )
                merged.label = merged.label.strip()
                choices = domain.check_choices(row.type, merged.choices)
                del merged.choices[:]
                merged.choices.extend(choices)
                removed = set(row.choices or ()) - set(choices)
                if removed and store.records_with(session, row.resource, row.name, removed):
                    raise InvalidArgument(
                        "a choice in use cannot be removed",
                        {"choices": "some records still hold a choice this removes: change them first"},
                    )

            change = store.definitions.update(
                session,
                partial.id,
                partial,
                list(request.update_mask.paths),
                etag=partial.etag,
                actor_id=actor_of(context),
                prepare=prepare,
                caller=current_caller_or_none(),
            )
            if change.changes:
                store.bump_catalogue(session)
            return write.respond(store.to_message(change.row))

    def DeleteCustomField(
        self, request: custom_fields_pb2.DeleteCustomFieldRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        _require("delete", Level.ALL)
        with idempotent_write(self.sessions, context, request, empty_pb2.Empty) as write:
            if write.replay is not None:
                return write.replay
            self._delete(write.session, request.id, request.etag, actor_of(context))
            return write.respond(empty_pb2.Empty())

    @staticmethod
    def _delete(session: Session, definition_id: str, etag: str, actor_id: str) -> Change[Any]:
        row = store.definitions.get(session, definition_id, for_update=True)
        check_etag(definition_id, row.version, etag)
        held = store.records_with(session, row.resource, row.name)
        if held:
            raise FailedPrecondition(
                f"{held} {row.resource} still have a value for {row.name}: clear them before deleting it"
            )
        changes = [FieldChange("name", row.name, None)]
        record_change(session, RESOURCE_TYPE, definition_id, Action.DELETED, actor_id, changes)
        session.execute(
            delete(store.CustomFieldDefinition).where(store.CustomFieldDefinition.id == definition_id)
        )
        store.bump_catalogue(session)
        return Change(row, actor_id, row.version, changes)

    def ListCustomFieldHistory(
        self, request: custom_fields_pb2.ListCustomFieldHistoryRequest, context: grpc.ServicerContext
    ) -> history_pb2.ListHistoryResponse:
        _require("read", Level.OWN)
        with reading(self.sessions) as session:
            # A deleted definition's history stays readable (its row is gone; its entries are not).
            answer = list_history(session, RESOURCE_TYPE, request.id, request.limit, request.cursor)
            if not answer.items and not request.cursor:
                store.definitions.get(session, request.id)  # NOT_FOUND for one that never existed
            return answer


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    custom_fields_pb2_grpc.add_CustomFieldsServiceServicer_to_server(CustomFieldsServicer(runtime), server)
    return [custom_fields_pb2.DESCRIPTOR.services_by_name["CustomFieldsService"].full_name]


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """Serve the custom field definitions from `definition`'s process too."""
    return definition.include(register)
