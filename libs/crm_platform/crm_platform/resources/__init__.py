"""What every service's resources share: standard writes with etags, field masks, history, idempotency.

    tables = resource_tables(Base.metadata)        # migration: create_resource_tables_v1(op)
    contacts = Repository(Contact, "contact", to_message=..., to_columns=..., request_field="contact")
    with idempotent_write(sessions, context, request, contacts_pb2.Contact) as write:
        if write.replay is not None:
            return write.replay
        change = contacts.create(write.session, Contact(...), actor_id)   # + history "created"
        return write.respond(to_message(change.row))
    with transaction(sessions) as session:
        change = contacts.update(session, id, request.contact, request.update_mask.paths,
                                 etag=request.contact.etag, actor_id=actor)   # + history "updated"
    service_secret(sessions, "cursor")             # 32 bytes, shared by every replica

Modules: schema (tables), history, etag (optimistic concurrency), field_mask (partial updates),
idempotency (`Idempotency-Key` in the service's transaction), secret (per-service secrets),
repository (the standard writes on top of them), methods (a resource's standard gRPC methods in one
line each: Create, Get, List, Update, Delete, history).
"""

from crm_platform.resources.etag import check_etag, compare_and_set, etag_of
from crm_platform.resources.field_mask import MergedUpdate, check_mask, is_output_only, merge_update
from crm_platform.resources.history import Action, FieldChange, list_history, record_change, to_history_entry
from crm_platform.resources.idempotency import IdempotentWrite, idempotent_write, purge_expired
from crm_platform.resources.methods import ResourceEvents, StandardMethods, actor_of
from crm_platform.resources.repository import Change, Repository
from crm_platform.resources.schema import (
    ResourceTables,
    create_resource_tables_v1,
    drop_resource_tables_v1,
    resource_tables,
)
from crm_platform.resources.secret import service_secret

__all__ = [
    "Action",
    "Change",
    "FieldChange",
    "IdempotentWrite",
    "MergedUpdate",
    "Repository",
    "ResourceEvents",
    "ResourceTables",
    "StandardMethods",
    "actor_of",
    "check_etag",
    "check_mask",
    "compare_and_set",
    "create_resource_tables_v1",
    "drop_resource_tables_v1",
    "etag_of",
    "idempotent_write",
    "is_output_only",
    "list_history",
    "merge_update",
    "purge_expired",
    "record_change",
    "resource_tables",
    "service_secret",
    "to_history_entry",
]
