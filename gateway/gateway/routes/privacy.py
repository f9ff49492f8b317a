"""GET /api/v1/contacts/{id}:exportData: everything every service holds about a person, in one document.

Like the customer-360 (gateway.customer360), the gateway asks all five services at once, here each
service's PrivacyService.ExportPersonalData (internal RPCs, no REST route of their own), each under its
own deadline, and assembles their answers: `{"contact_id", "exported_at", "services": {"contacts": ...,
"notifications": ..., "sales": ..., "marketing": ..., "support": ...}, "forbidden": [...]}`.

Access: the contacts service answers only for a contact the caller may read (NOT_FOUND otherwise, which
is this route's 404 whatever the other services said); every other service exports in the caller's
scope of its own records, and a service that refuses the caller (PERMISSION_DENIED) is named in
`forbidden`. Unlike the 360, an export is not partial: a service that fails or does not answer makes
it a 503 naming the service, since a data-subject access answer missing a service's records would
silently be wrong. Every export served is audited (`contact.exported` in /api/v1/audit-events).
"""

from __future__ import annotations

from typing import Any

import grpc
import orjson
from flask import Blueprint, Response
from google.protobuf import json_format
from google.protobuf.message import Message

from crm.common.v1 import privacy_pb2 as common_privacy_pb2
from crm_platform.db import utcnow
from crm_platform.resources.history import jsonable
from gateway.auth import current_caller, current_principal
from gateway.identity import audit
from gateway.identity.routes.common import client_address
from gateway.problems import Problem, problem_type
from gateway.routes.customers import checked_id, contact_not_found
from gateway.state import state

bp = Blueprint("privacy", __name__)

SERVICES = ("contacts", "notifications", "sales", "marketing", "support")
# An export reads every record of the person: more than a 360 section, so a longer deadline.
MIN_DEADLINE_SECONDS = 10.0


def _path(service: str) -> str:
    return f"/crm.{service}.v1.PrivacyService/ExportPersonalData"


def compose(contact_id: str, metadata: list[tuple[str, str]], deadline_seconds: float) -> dict[str, Any]:
    """The assembled document; raises Problem (404, 403, 503) as the module says."""
    clients = state().clients
    request = common_privacy_pb2.ExportPersonalDataRequest(contact_id=contact_id)
    pending: dict[str, grpc.Future] = {}
    failed: dict[str, str] = {}
    for service in SERVICES:
        try:
            call = clients.unary(service, _path(service), common_privacy_pb2.PersonalDataExport)
            pending[service] = call.future(request, timeout=deadline_seconds, metadata=metadata)
        except Exception as error:  # a bad address: this service's part is missing
            failed[service] = f"service could not be called ({type(error).__name__})"
    sections: dict[str, Any] = {}
    forbidden: list[str] = []
    try:
        for service, future in pending.items():
            try:
                answer: Message = future.result()
            except grpc.RpcError as error:
                code = error.code() if hasattr(error, "code") else None
                if service == "contacts" and code in (
                    grpc.StatusCode.NOT_FOUND,
                    grpc.StatusCode.INVALID_ARGUMENT,
                ):
                    raise contact_not_found(contact_id) from None
                if service == "contacts" and code is grpc.StatusCode.PERMISSION_DENIED:
                    raise Problem(
                        403, "You may not read this contact.", type=problem_type("forbidden")
                    ) from None
                if code is grpc.StatusCode.PERMISSION_DENIED:
                    forbidden.append(service)
                    continue
                failed[service] = f"service answered {code.name if code else 'nothing'}"
                continue
            sections[service] = json_format.MessageToDict(answer.data)  # type: ignore[attr-defined]
    finally:
        for future in pending.values():
            future.cancel()
    if failed:
        raise Problem(
            503,
            "The export is incomplete: " + ", ".join(f"{s} ({r})" for s, r in sorted(failed.items())),
            type=problem_type("unavailable"),
            headers={"Retry-After": "5"},
            extra={"unavailable": sorted(failed)},
        )
    return {
        "contact_id": contact_id,
        "exported_at": jsonable(utcnow()),
        "services": {s: sections.get(s) for s in SERVICES},
        "forbidden": [s for s in SERVICES if s in forbidden],
    }


@bp.get("/contacts/<contact_id>:exportData")
def export_data(contact_id: str) -> Response:
    gateway = state()
    contact_id = checked_id(contact_id)
    document = compose(
        contact_id,
        list(current_caller().metadata()),
        max(MIN_DEADLINE_SECONDS, gateway.settings.service_deadline_seconds),
    )
    audit.record_now(
        gateway.database.sessions,
        "contact.exported",
        actor=current_principal(),
        target_type="contact",
        target_id=contact_id,
        client_address=client_address(),
        details={"services": [s for s in SERVICES if document["services"][s] is not None]},
    )
    return Response(orjson.dumps(document), mimetype="application/json")
