"""`POST /api/v1/web-forms/{form_key}/submissions`: the public end of a lead form (crm.sales.v1 lead
forms), reachable without a login so that a web site's form can post to it.

- The body is JSON or an HTML form post (urlencoded) of the lead's own fields (FIELDS); ownership, source
  and campaign are the form's, never the poster's.
- Spam: `hp_website` is a honeypot, a field the page hides from people. A submission that fills it is
  answered exactly like an accepted one (a bot learns nothing) and creates nothing.
- Rate: the sales service counts submissions per form and client address (one count for every gateway
  worker and sales replica: sales.leads.web_forms); over the limit is a 429 with Retry-After.
- The call to sales is the gateway's own (a signed service context that may only create leads), with the
  client address as the gateway sees it (GATEWAY_TRUSTED_PROXY_HOPS).
- The answer is 202 with nothing of the lead: an anonymous poster learns no record ids.
"""

from __future__ import annotations

from typing import Any

import grpc
from flask import Blueprint, Response, request

from crm.sales.v1 import leads_pb2
from crm_platform.access import Level
from crm_platform.grpc_client import CALLER_CONTEXT_METADATA_KEY
from gateway.auth import public
from gateway.identity.caller_context import signed_gateway_context
from gateway.identity.routes.common import client_address
from gateway.problems import Problem, problem_type
from gateway.rpc_errors import problem_from_rpc_error
from gateway.state import state

bp = Blueprint("web_forms", __name__)

SERVICE = "sales"
SUBMIT = "/crm.sales.v1.LeadsService/SubmitWebForm"
HONEYPOT = "hp_website"
REQUIRED = "last_name"  # the one field a lead cannot do without
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "company_domain",
    "title",
    "industry",
    "country",
    "region",
    "notes",
)
# What the gateway's call may do: create leads, nothing else.
RIGHTS = {"lead": {"create": Level.ALL}}
DEADLINE_SECONDS = 5.0
MAX_FORM_KEY = 64


def _received() -> Response:
    return Response('{"status":"received"}', status=202, mimetype="application/json")


def _fields() -> dict[str, Any]:
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Problem(400, "The body must be a JSON object.", type=problem_type("bad-request"))
        return body
    return request.form.to_dict()


@bp.post("/web-forms/<form_key>/submissions")
@public
def submit(form_key: str) -> Response:
    if len(form_key) > MAX_FORM_KEY or not form_key.isprintable():
        raise Problem(404, "No such form.", type=problem_type("not-found"))
    fields = _fields()
    unknown = sorted(set(fields) - set(FIELDS) - {HONEYPOT})
    if unknown:
        raise Problem(
            400,
            f"Unknown fields: {', '.join(unknown)}.",
            type=problem_type("bad-request"),
            errors=[{"field": name, "message": "is not a field of this form"} for name in unknown],
        )
    given = [name for name in (*FIELDS, HONEYPOT) if name in fields]
    wrong = [name for name in given if not isinstance(fields[name], str | None)]
    if wrong:
        raise Problem(
            422,
            "Form fields are text.",
            type=problem_type("validation-error"),
            errors=[{"field": name, "message": "must be a string"} for name in wrong],
        )
    if not (fields.get(REQUIRED) or "").strip():
        # Checked here as well as by sales so that a bot's submission (answered 202 below, unread) that
        # breaks the form's contract meets the same 422 as a person's.
        raise Problem(
            422,
            "Request validation failed",
            type=problem_type("validation-error"),
            errors=[{"field": REQUIRED, "message": "is required"}],
        )
    if (fields.get(HONEYPOT) or "").strip():
        return _received()
    lead = leads_pb2.CreateLeadRequest(**{name: fields[name] or "" for name in FIELDS if name in fields})
    message = leads_pb2.SubmitWebFormRequest(
        form_key=form_key, lead=lead, client_address=(client_address() or "")[:64]
    )
    call = state().clients.unary(SERVICE, SUBMIT, leads_pb2.SubmitWebFormResponse)
    metadata = [(CALLER_CONTEXT_METADATA_KEY, signed_gateway_context(RIGHTS))]
    try:
        call(message, timeout=DEADLINE_SECONDS, metadata=metadata)
    except grpc.RpcError as error:
        raise problem_from_rpc_error(error, SERVICE, body_field="lead") from None
    return _received()


def openapi_paths() -> dict[str, Any]:
    """This route in the OpenAPI document."""
    text = {"type": "string"}
    return {
        "/api/v1/web-forms/{form_key}/submissions": {
            "post": {
                "operationId": "submitWebForm",
                "summary": "Submit a public lead form (no login)",
                "description": "Creates a lead with the form's source, campaign and partner account, "
                "assigned by the lead assignment rules. JSON or an HTML form post. `hp_website` is a "
                "honeypot: leave it empty. Limited per form and client address (429 with Retry-After). "
                "Answers 202 without the lead.",
                "tags": ["sales"],
                "security": [],
                "parameters": [{"name": "form_key", "in": "path", "required": True, "schema": text}],
                "requestBody": {
                    "required": True,
                    "content": {
                        media: {
                            "schema": {
                                "type": "object",
                                "required": [REQUIRED],
                                "additionalProperties": False,
                                "properties": {name: text for name in (*FIELDS, HONEYPOT)},
                            }
                        }
                        for media in ("application/json", "application/x-www-form-urlencoded")
                    },
                },
                "responses": {
                    "202": {"description": "Received."},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                    "422": {"$ref": "#/components/responses/ValidationFailed"},
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                    "500": {"$ref": "#/components/responses/InternalError"},
                },
            }
        }
    }
