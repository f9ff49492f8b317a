"""The ImportsService servicer: queue an import (the file read once here to suggest and check the mapping
and count its rows), follow it, cancel it, list its errors. Jobs are visible to whoever started them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import grpc

from contacts.imports import fields as fieldmap
from contacts.imports import store
from contacts.imports.adapter import EXTERNAL_ID
from contacts.imports.files import UnreadableFile, format_of, read_rows
from contacts.imports.resources import adapter_of
from crm.contacts.v1 import imports_pb2, imports_pb2_grpc
from crm_platform.access import Level
from crm_platform.access.context import current_caller
from crm_platform.db import reading, transaction
from crm_platform.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from crm_platform.protobuf import timestamp
from crm_platform.resources.idempotency import idempotent_write
from crm_platform.service import Runtime

STATES = {
    store.QUEUED: imports_pb2.IMPORT_STATE_QUEUED,
    store.RUNNING: imports_pb2.IMPORT_STATE_RUNNING,
    store.DONE: imports_pb2.IMPORT_STATE_DONE,
    store.FAILED: imports_pb2.IMPORT_STATE_FAILED,
    store.CANCELLED: imports_pb2.IMPORT_STATE_CANCELLED,
}


def fields_of(resource: str) -> list[str]:
    """The fields a column may be mapped to: the resource's Create request's (adapter.py)."""
    return adapter_of(resource).importable()


def to_message(row: Any) -> imports_pb2.ImportJob:
    job = imports_pb2.ImportJob(
        id=row.id,
        resource=row.resource,
        state=STATES[row.state],
        filename=row.filename,
        format=row.format,
        mapping=row.mapping,
        columns=row.columns,
        fields=fields_of(row.resource),
        dry_run=row.dry_run,
        notify=row.notify,
        rows_total=row.rows_total,
        rows_done=row.rows_done,
        created=row.created,
        updated=row.updated,
        skipped=row.skipped,
        failed=row.failed,
        error=row.error or "",
        actor_id=row.actor_id,
        created_at=timestamp(row.created_at),
    )
    if row.started_at is not None:
        job.started_at.CopyFrom(timestamp(row.started_at))
    if row.finished_at is not None:
        job.finished_at.CopyFrom(timestamp(row.finished_at))
    return job


def _not_found(job_id: str) -> NotFound:
    return NotFound(f"import {job_id} was not found", resource_type="import", resource_name=job_id)


def inspect_file(content: bytes, file_format: str) -> tuple[list[str], int]:
    """The header and the number of data rows; InvalidArgument naming `content` when unreadable."""
    try:
        header, rows = read_rows(content, file_format)
        return header, sum(1 for _ in rows)
    except UnreadableFile as error:
        raise InvalidArgument("the file cannot be read", {"content": str(error)}) from None


class ImportsServicer(imports_pb2_grpc.ImportsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.sessions = runtime.sessions

    def CreateImport(
        self, request: imports_pb2.CreateImportRequest, context: grpc.ServicerContext
    ) -> imports_pb2.ImportJob:
        caller = current_caller()
        adapter = adapter_of(request.resource or "contacts")
        kind = adapter.repository.resource_type
        if all(caller.level(kind, action) is Level.NONE for action in ("create", "update")):
            raise PermissionDenied(
                f"importing {adapter.name} needs the right to create or update {adapter.name}"
            )
        file_format = format_of(request.filename, request.content, request.format)
        header, total = inspect_file(request.content, file_format)
        fields = adapter.importable()
        mapping = dict(request.mapping) or fieldmap.suggest_mapping(header, fields)
        problems = fieldmap.check_mapping(mapping, header, fields)
        if not set(adapter.key_fields()) & set(mapping.values()) and not problems:
            problems["mapping"] = (
                f"no column is mapped to {adapter.natural_key} or {EXTERNAL_ID}, which match rows to "
                f"{adapter.name}"
            )
        if problems:
            raise InvalidArgument("the mapping does not fit the file", problems)
        with idempotent_write(self.sessions, context, request, imports_pb2.ImportJob) as write:
            if write.replay is not None:
                return write.replay
            session = write.session
            row = store.add_job(
                session,
                resource=adapter.name,
                filename=request.filename or f"upload.{file_format}",
                format=file_format,
                mapping=mapping,
                columns=header,
                dry_run=request.dry_run,
                notify=request.notify,
                caller=caller.claims(),
                actor_id=caller.subject,
                content=request.content,
                rows_total=total,
            )
            return write.respond(to_message(store.job_of(session, row["id"], None)))

    def GetImport(
        self, request: imports_pb2.GetImportRequest, context: grpc.ServicerContext
    ) -> imports_pb2.ImportJob:
        with reading(self.sessions) as session:
            row = store.job_of(session, request.id, current_caller().subject)
            if row is None:
                raise _not_found(request.id)
            return to_message(row)

    def ListImports(
        self, request: imports_pb2.ListImportsRequest, context: grpc.ServicerContext
    ) -> imports_pb2.ListImportsResponse:
        limit = request.limit or 50
        before = None
        if request.cursor:
            try:
                at, job_id = request.cursor.split("|", 1)
                before = (datetime.fromisoformat(at), job_id)
            except ValueError:
                raise InvalidArgument("bad cursor", {"cursor": "is not a cursor this service gave"}) from None
        with reading(self.sessions) as session:
            rows = store.jobs_of(session, current_caller().subject, limit + 1, before)
        page = rows[:limit]
        cursor = f"{page[-1].created_at.isoformat()}|{page[-1].id}" if len(rows) > limit else ""
        return imports_pb2.ListImportsResponse(items=[to_message(r) for r in page], next_cursor=cursor)

    def CancelImport(
        self, request: imports_pb2.CancelImportRequest, context: grpc.ServicerContext
    ) -> imports_pb2.ImportJob:
        subject = current_caller().subject
        with transaction(self.sessions) as session:
            row = store.job_of(session, request.id, subject)
            if row is None:
                raise _not_found(request.id)
            if not store.cancel(session, request.id) and row.state != store.CANCELLED:
                raise FailedPrecondition(f"import {request.id} has already ended ({row.state})")
            return to_message(store.job_of(session, request.id, subject))

    def ListImportErrors(
        self, request: imports_pb2.ListImportErrorsRequest, context: grpc.ServicerContext
    ) -> imports_pb2.ListImportErrorsResponse:
        limit = request.limit or 200
        after = None
        if request.cursor:
            try:
                row_text, seq_text = request.cursor.split(":", 1)
                after = (int(row_text), int(seq_text))
            except ValueError:
                raise InvalidArgument("bad cursor", {"cursor": "is not a cursor this service gave"}) from None
        with reading(self.sessions) as session:
            if store.job_of(session, request.id, current_caller().subject) is None:
                raise _not_found(request.id)
            rows = store.errors_of(session, request.id, limit + 1, after)
        page = rows[:limit]
        cursor = f"{page[-1].row}:{page[-1].seq}" if len(rows) > limit else ""
        return imports_pb2.ListImportErrorsResponse(
            items=[imports_pb2.ImportError(row=r.row, column=r.column, message=r.message) for r in page],
            next_cursor=cursor,
        )


def register(server: grpc.Server, runtime: Runtime) -> list[str]:
    imports_pb2_grpc.add_ImportsServiceServicer_to_server(ImportsServicer(runtime), server)
    return [imports_pb2.DESCRIPTOR.services_by_name["ImportsService"].full_name]
