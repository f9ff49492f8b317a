"""/api/v1/contacts: create, read and list contacts through the contacts service."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, url_for

from crm.contacts.v1 import contacts_pb2
from gateway.auth import current_caller
from gateway.bodies import parse_body, parse_query
from gateway.clients import CALL_DEADLINE_SECONDS
from gateway.idempotency import idempotent
from gateway.models import ContactCreate, ListQuery
from gateway.problems import Problem, problem_type
from gateway.render import contact_json
from gateway.rpc_errors import service_call
from gateway.state import state

bp = Blueprint("contacts", __name__)
MAX_ID_LENGTH = 64


def contact_not_found(contact_id: str) -> Problem:
    return Problem(404, f"Contact {contact_id} was not found.", type=problem_type("not-found"))


def checked_id(contact_id: str) -> str:
    # No id we issue looks like this; answer without bothering the service.
    if len(contact_id) > MAX_ID_LENGTH or not contact_id.isprintable():
        raise contact_not_found(contact_id[:MAX_ID_LENGTH])
    return contact_id


@bp.post("/contacts")
@idempotent
def create_contact() -> Response:
    body = parse_body(ContactCreate)
    message = contacts_pb2.CreateContactRequest(
        first_name=body.first_name,
        last_name=body.last_name,
        email=body.email,
        phone=body.phone or "",
        company=body.company or "",
    )
    with service_call("contacts"):
        contact = state().clients.contacts.CreateContact(
            message, metadata=current_caller().metadata(), timeout=CALL_DEADLINE_SECONDS
        )
    response = jsonify(contact_json(contact))
    response.status_code = 201
    response.headers["Location"] = url_for(".get_contact", contact_id=contact.id)
    return response


@bp.get("/contacts/<contact_id>")
def get_contact(contact_id: str) -> Response:
    request = contacts_pb2.GetContactRequest(id=checked_id(contact_id))
    with service_call("contacts"):
        contact = state().clients.contacts.GetContact(
            request, metadata=current_caller().metadata(), timeout=CALL_DEADLINE_SECONDS
        )
    return jsonify(contact_json(contact))


@bp.get("/contacts")
def list_contacts() -> Response:
    query = parse_query(ListQuery)
    request = contacts_pb2.ListContactsRequest(limit=query.limit, cursor=query.cursor or "")
    with service_call("contacts"):
        page = state().clients.contacts.ListContacts(
            request, metadata=current_caller().metadata(), timeout=CALL_DEADLINE_SECONDS
        )
    return jsonify({"items": [contact_json(c) for c in page.items], "next_cursor": page.next_cursor or None})
