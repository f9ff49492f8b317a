"""/api/v1/partner-accounts: distributors and resellers. Admins manage them; staff read them; a partner
user sees only their own account (any other id is a 404, as if it did not exist)."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm_platform.db import reading, transaction, utcnow
from gateway.auth import current_principal
from gateway.bodies import parse_body
from gateway.identity import audit
from gateway.identity.changes import apply_change
from gateway.identity.models import (
    PartnerAccountCreate,
    PartnerAccountList,
    PartnerAccountOut,
    PartnerAccountUpdate,
)
from gateway.identity.paging import bool_arg
from gateway.identity.routes.common import (
    answer,
    bad_request,
    client_address,
    conflict,
    not_found,
    require_admin,
    require_user,
)
from gateway.identity.routes.lookups import get_or_404, name_taken
from gateway.identity.routes.pages import page_answer, page_request
from gateway.identity.runtime import identity
from gateway.schema import PartnerAccount

bp = Blueprint("identity_partner_accounts", __name__)
KINDS = ("distributor", "reseller")


def _out(account: PartnerAccount) -> PartnerAccountOut:
    return PartnerAccountOut(
        id=account.id,
        name=account.name,
        kind=account.kind,  # type: ignore[arg-type]
        active=bool(account.is_active),
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def _require_reader() -> str | None:
    """The partner account the caller is confined to (None: all); API keys may not read these."""
    return require_user().partner_account_id


@bp.post("/partner-accounts")
def create_partner_account() -> Response:
    actor = require_admin()
    body = parse_body(PartnerAccountCreate)
    try:
        with transaction(identity().sessions) as session:
            if name_taken(session, PartnerAccount, body.name):
                raise conflict("name: a partner account with this name exists")
            account = PartnerAccount(
                id=str(uuid.uuid4()),
                name=body.name,
                kind=body.kind,
                is_active=body.active,
                created_at=utcnow(),
            )
            session.add(account)
            audit.record(
                session,
                "partner_account.created",
                actor=actor,
                target_type="partner_account",
                target_id=account.id,
                client_address=client_address(),
                details={"name": body.name, "kind": body.kind},
            )
            out = _out(account)
    except IntegrityError:
        raise conflict("name: a partner account with this name exists") from None
    return answer(out, 201, location=f"/api/v1/partner-accounts/{out.id}")


@bp.get("/partner-accounts")
def list_partner_accounts() -> Response:
    confined_to = _require_reader()
    page = page_request(current_principal().subject, "partner-accounts", {"kind", "active"})
    args = page.args
    stmt = select(PartnerAccount)
    if confined_to is not None:
        stmt = stmt.where(PartnerAccount.id == confined_to)
    if "kind" in args:
        if args["kind"] not in KINDS:
            raise bad_request("kind", f"must be one of {', '.join(KINDS)}")
        stmt = stmt.where(PartnerAccount.kind == args["kind"])
    active = bool_arg(args, "active")
    if active is not None:
        stmt = stmt.where(PartnerAccount.is_active.is_(active))
    return page_answer(
        page,
        stmt,
        PartnerAccount.created_at,
        PartnerAccount.id,
        lambda _session, account: _out(account),
        PartnerAccountList,
    )


@bp.get("/partner-accounts/<account_id>")
def get_partner_account(account_id: str) -> Response:
    confined_to = _require_reader()
    if confined_to is not None and account_id != confined_to:
        raise not_found("Partner account", account_id)  # not 403: do not reveal that it exists
    with reading(identity().sessions) as session:
        account = get_or_404(session, PartnerAccount, account_id, "Partner account")
        return answer(_out(account))


@bp.patch("/partner-accounts/<account_id>")
def update_partner_account(account_id: str) -> Response:
    """Deactivating an account signs its users out within GATEWAY_IDENTITY_CACHE_SECONDS."""
    actor = require_admin()
    body = parse_body(PartnerAccountUpdate)
    try:
        with transaction(identity().sessions) as session:
            account = get_or_404(session, PartnerAccount, account_id, "Partner account")
            if (
                body.name is not None
                and body.name != account.name
                and name_taken(session, PartnerAccount, body.name, except_id=account.id)
            ):
                raise conflict("name: a partner account with this name exists")
            changed: dict[str, object] = {}
            apply_change(changed, account, "name", body.name)
            apply_change(changed, account, "kind", body.kind)
            apply_change(changed, account, "is_active", body.active, field="active")
            if changed:
                account.updated_at = utcnow()
                audit.record(
                    session,
                    "partner_account.updated",
                    actor=actor,
                    target_type="partner_account",
                    target_id=account.id,
                    client_address=client_address(),
                    details=changed,
                )
            out = _out(account)
    except IntegrityError:
        raise conflict("name: a partner account with this name exists") from None
    return answer(out)
