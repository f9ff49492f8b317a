"""GET /api/v1/customers/{id}/360: the composed customer view."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gateway.auth import current_caller
from gateway.customer360 import ContactNotFound, compose
from gateway.routes.contacts import checked_id, contact_not_found
from gateway.state import state

bp = Blueprint("customers", __name__)


@bp.get("/customers/<contact_id>/360")
def customer_360(contact_id: str) -> Response:
    gateway = state()
    try:
        view = compose(
            gateway.clients,
            checked_id(contact_id),
            metadata=current_caller().metadata(),
            deadline_seconds=gateway.settings.service_deadline_seconds,
        )
    except ContactNotFound:
        raise contact_not_found(contact_id) from None
    return jsonify(view)
