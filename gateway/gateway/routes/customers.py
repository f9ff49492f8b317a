"""GET /api/v1/customers/{id}/360: the composed customer view."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response

from gateway.auth import current_caller, current_principal
from gateway.customer360 import ContactNotFound, compose
from gateway.problems import Problem, problem_type
from gateway.state import state

bp = Blueprint("customers", __name__)
MAX_ID_LENGTH = 64


def contact_not_found(contact_id: str) -> Problem:
    return Problem(404, f"Contact {contact_id} was not found.", type=problem_type("not-found"))


def checked_id(contact_id: str) -> str:
    # No id we issue looks like this; answer without bothering the services.
    if len(contact_id) > MAX_ID_LENGTH or not contact_id.isprintable():
        raise contact_not_found(contact_id[:MAX_ID_LENGTH])
    return contact_id


@bp.get("/customers/<contact_id>/360")
def customer_360(contact_id: str) -> Response:
    gateway = state()
    try:
        view = compose(
            gateway.clients,
            checked_id(contact_id),
            metadata=current_caller().metadata(),
            deadline_seconds=gateway.settings.service_deadline_seconds,
            may_read=current_principal().may_read,
        )
    except ContactNotFound:
        raise contact_not_found(contact_id) from None
    return Response(orjson.dumps(view), mimetype="application/json")
