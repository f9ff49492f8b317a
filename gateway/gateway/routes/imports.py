"""What the gateway itself serves for contacts' imports and exports (the rest is transcoded from
crm/contacts/v1/imports.proto: GET /imports, GET /imports/{id}, POST /imports/{id}:cancel, GET
/imports/{id}/errors):

- `POST /api/v1/imports`: a multipart upload (`file`, `resource`, `mapping` as JSON, `dry_run`,
  `notify`) handed to ImportsService.CreateImport; 202 with the job and its `Location`.
- `GET /api/v1/imports/{id}/errors.csv`: the job's row errors as CSV, streamed page by page.
- `GET /api/v1/contacts:export?filter=&order_by=&format=csv|jsonl`: every contact the caller may read
  that matches, streamed in constant memory: ListContacts pages (keyset cursors, the caller's scope
  applied by the service) written out as they arrive. Columns are the Contact message's fields, so a new
  field is exported without a change here. Cells that a spreadsheet would run as a formula (starting
  with =, +, -, @, tab or CR) are prefixed with `'`. Each export is recorded in the audit log.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import grpc
import orjson
from flask import Blueprint, Response, request, stream_with_context

from crm.contacts.v1 import contacts_pb2, imports_pb2
from crm_platform import protojson
from gateway.auth import current_caller, current_principal
from gateway.idempotency import HEADER as IDEMPOTENCY_HEADER
from gateway.idempotency import request_key
from gateway.identity import audit
from gateway.identity.caller_context import signed_caller_context
from gateway.identity.routes.common import client_address
from gateway.identity.runtime import identity
from gateway.openapi_schemas import SchemaBuilder
from gateway.problems import Problem, problem_type
from gateway.rpc_errors import problem_from_rpc_error
from gateway.state import state

bp = Blueprint("imports", __name__)

SERVICE = "contacts"
IMPORTS = "/crm.contacts.v1.ImportsService"
LIST_CONTACTS = "/crm.contacts.v1.ContactsService/ListContacts"
# An upload is parsed once by the service (rows counted, header read) before the answer.
UPLOAD_DEADLINE_SECONDS = 60.0
PAGE_DEADLINE_SECONDS = 30.0
# Below gRPC's default 4 MiB message limit, with room for the request's other fields.
MAX_UPLOAD_BYTES = 4_000_000
EXPORT_PAGE = 200
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def neutralised(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return neutralised(json.dumps(value, separators=(",", ":")))
    return neutralised(str(value))


def csv_line(cells: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_cell(c) for c in cells])
    return buffer.getvalue()


def _problem(error: grpc.RpcError) -> Problem:
    return problem_from_rpc_error(error, SERVICE)


def _call(
    method: str, message: Any, response: type[Any], timeout: float, extra: tuple[tuple[str, str], ...] = ()
) -> Any:
    call = state().clients.unary(SERVICE, method, response)
    # Signed afresh for each call (cached per caller, renewed before it runs out): an export or an
    # errors.csv streams pages for longer than one signed context lives (CONTEXT_TTL_SECONDS), and a
    # page asked with an expired one would end the file half-way.
    caller = replace(current_caller(), context=signed_caller_context())
    try:
        return call(message, timeout=timeout, metadata=[*caller.metadata(), *extra])
    except grpc.RpcError as error:
        raise _problem(error) from None


def _flag(name: str) -> bool:
    text = (request.form.get(name) or "").strip().lower()
    if text in ("", "false", "0", "no", "off"):
        return False
    if text in ("true", "1", "yes", "on"):
        return True
    raise Problem(
        422, f"{name} must be true or false", errors=[{"field": name, "message": "must be true or false"}]
    )


def _mapping() -> dict[str, str]:
    text = request.form.get("mapping") or ""
    if not text.strip():
        return {}
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.items()
    ):
        raise Problem(
            422,
            'mapping must be a JSON object of column names to field names, e.g. {"E-mail": "email"}',
            errors=[{"field": "mapping", "message": "must be a JSON object of strings"}],
        )
    return found


@bp.post("/imports")
def create_import() -> Response:
    request.max_content_length = MAX_UPLOAD_BYTES + 64 * 1024
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise Problem(415, "send the file as multipart/form-data (fields: file, resource, mapping, dry_run)")
    upload = request.files.get("file")
    if upload is None:
        raise Problem(422, "no file", errors=[{"field": "file", "message": "is required"}])
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise Problem(
            413, f"the file is larger than {MAX_UPLOAD_BYTES} bytes", type=problem_type("too-large")
        )
    message = imports_pb2.CreateImportRequest(
        resource=request.form.get("resource") or "contacts",
        filename=(upload.filename or "")[:255],
        content=content,
        mapping=_mapping(),
        dry_run=_flag("dry_run"),
        notify=_flag("notify"),
    )
    # A retried upload with the same Idempotency-Key gets the first job (the service deduplicates it).
    key = (("idempotency-key", request_key()),) if IDEMPOTENCY_HEADER in request.headers else ()
    job = _call(f"{IMPORTS}/CreateImport", message, imports_pb2.ImportJob, UPLOAD_DEADLINE_SECONDS, key)
    answer = Response(orjson.dumps(protojson.encode(job)), status=202, mimetype="application/json")
    answer.headers["Location"] = f"/api/v1/imports/{job.id}"
    return answer


@bp.get("/imports/<job_id>/errors.csv")
def import_errors_csv(job_id: str) -> Response:
    first = _call(
        f"{IMPORTS}/ListImportErrors",
        imports_pb2.ListImportErrorsRequest(id=job_id[:64], limit=1000),
        imports_pb2.ListImportErrorsResponse,
        PAGE_DEADLINE_SECONDS,
    )

    def lines() -> Iterator[str]:
        yield csv_line(["row", "column", "message"])
        page = first
        while True:
            for item in page.items:
                yield csv_line([item.row, item.column, item.message])
            if not page.next_cursor:
                return
            page = _call(
                f"{IMPORTS}/ListImportErrors",
                imports_pb2.ListImportErrorsRequest(id=job_id, limit=1000, cursor=page.next_cursor),
                imports_pb2.ListImportErrorsResponse,
                PAGE_DEADLINE_SECONDS,
            )

    answer = Response(stream_with_context(lines()), mimetype="text/csv; charset=utf-8")
    answer.headers["Content-Disposition"] = f'attachment; filename="import-{job_id[:64]}-errors.csv"'
    return answer


def export_columns() -> list[str]:
    return [field.name for field in contacts_pb2.Contact.DESCRIPTOR.fields]


@bp.get("/contacts:export")
def export_contacts() -> Response:
    unknown = sorted(set(request.args) - {"filter", "order_by", "format"})
    if unknown:
        raise Problem(400, f"unknown query parameter(s): {', '.join(unknown)}")
    file_format = request.args.get("format", "csv")
    if file_format not in FORMATS:
        raise Problem(
            400, "format must be csv or jsonl", errors=[{"field": "format", "message": "csv or jsonl"}]
        )
    asked = contacts_pb2.ListContactsRequest(
        filter=request.args.get("filter", ""), order_by=request.args.get("order_by", ""), limit=EXPORT_PAGE
    )
    # The first page before answering: a bad filter or a missing right is a problem response, not a
    # truncated file.
    first = _call(LIST_CONTACTS, asked, contacts_pb2.ListContactsResponse, PAGE_DEADLINE_SECONDS)
    principal = current_principal()
    audit.record_now(
        identity().sessions,
        "contacts.exported",
        actor=principal,
        target_type="contact",
        client_address=client_address(),
        details={"filter": asked.filter, "order_by": asked.order_by, "format": file_format},
    )
    columns = export_columns()

    def rows() -> Iterator[str | bytes]:
        if file_format == "csv":
            yield csv_line(columns)
        page = first
        while True:
            for contact in page.items:
                encoded = protojson.encode(contact)
                if file_format == "csv":
                    yield csv_line(encoded.get(name) for name in columns)
                else:
                    yield orjson.dumps(encoded) + b"\n"
            if not page.next_cursor:
                return
            asked.cursor = page.next_cursor
            page = _call(LIST_CONTACTS, asked, contacts_pb2.ListContactsResponse, PAGE_DEADLINE_SECONDS)

    answer = Response(stream_with_context(rows()), mimetype=FORMATS[file_format])
    answer.headers["Content-Disposition"] = f'attachment; filename="contacts.{file_format}"'
    return answer


def openapi_paths(builder: SchemaBuilder) -> dict[str, Any]:
    """These routes in the OpenAPI document (merged into the transcoded /api/v1/imports path item)."""
    problem = {"$ref": "#/components/responses/InternalError"}

    def problems(*names: str) -> dict[str, Any]:
        codes = {"BadRequest": "400", "Unauthorized": "401", "Forbidden": "403", "NotFound": "404"}
        codes |= {"PayloadTooLarge": "413", "UnsupportedMediaType": "415", "ValidationFailed": "422"}
        return {"500": problem, **{codes[n]: {"$ref": f"#/components/responses/{n}"} for n in names}}

    job = builder.ref(imports_pb2.ImportJob.DESCRIPTOR, output=True)
    return {
        "/api/v1/imports": {
            "post": {
                "operationId": "createImport",
                "summary": "Upload a CSV or XLSX file of contacts or companies to import in the background",
                "description": "Answers 202 with the job (its `mapping` is the one suggested from the header "
                "when none is given); follow it at `GET /api/v1/imports/{id}`. Rows are upserted within "
                "your book by `external_id`, then by email (contacts) or domain (companies), as you: your "
                "rights, scope and defaults. `dry_run` validates and counts without writing. Imported "
                "contacts get no welcome unless `notify` is true.",
                "tags": ["contacts"],
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "resource": {
                                        "type": "string",
                                        "enum": ["contacts", "companies"],
                                        "default": "contacts",
                                    },
                                    "mapping": {
                                        "type": "string",
                                        "description": "JSON object: file column -> field, "
                                        '{"E-mail": "email"}',
                                    },
                                    "dry_run": {"type": "boolean", "default": False},
                                    "notify": {"type": "boolean", "default": False},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "202": {
                        "description": "The queued job",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": job}},
                    },
                    **problems(
                        "BadRequest",  # e.g. a malformed Idempotency-Key
                        "Unauthorized",
                        "Forbidden",
                        "PayloadTooLarge",
                        "UnsupportedMediaType",
                        "ValidationFailed",
                    ),
                },
            }
        },
        "/api/v1/imports/{id}/errors.csv": {
            "get": {
                "operationId": "getImportErrorsCsv",
                "summary": "The rows an import refused, as CSV (row, column, message)",
                "tags": ["contacts"],
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                    **problems("Unauthorized", "NotFound"),
                },
            }
        },
        "/api/v1/contacts:export": {
            "get": {
                "operationId": "exportContacts",
                "summary": "Every contact you may read that matches `filter`, streamed as CSV or JSON lines",
                "description": "Columns are the contact's fields. Cells starting with =, +, -, @, tab "
                "or CR are prefixed with `'` so spreadsheets never run them. Recorded in the audit log.",
                "tags": ["contacts"],
                "parameters": [
                    {"name": "filter", "in": "query", "required": False, "schema": {"type": "string"}},
                    {"name": "order_by", "in": "query", "required": False, "schema": {"type": "string"}},
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The contacts",
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
                            "application/x-ndjson": {"schema": {"type": "string"}},
                        },
                    },
                    **problems("BadRequest", "Unauthorized", "Forbidden", "ValidationFailed"),
                },
            }
        },
    }
