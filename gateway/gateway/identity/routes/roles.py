"""/api/v1/roles: built-in roles (read-only, with their matrices) and custom roles (admins manage)."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select

from crm_platform.access import BUILTIN_ROLES, builtin_rights, parse_permissions
from crm_platform.access.rights import to_json as rights_json
from crm_platform.db import reading, transaction, utcnow
from gateway.bodies import parse_body
from gateway.identity import audit
from gateway.identity.changes import apply_change
from gateway.identity.models import RoleCreate, RoleList, RoleOut, RoleUpdate
from gateway.identity.paging import query_args
from gateway.identity.roles import is_builtin, role_in_use
from gateway.identity.routes.common import (
    answer,
    bad_request,
    client_address,
    conflict,
    listing,
    no_content,
    require_admin,
)
from gateway.identity.routes.lookups import get_or_404
from gateway.identity.runtime import identity
from gateway.problems import Problem
from gateway.schema import CustomRole

bp = Blueprint("identity_roles", __name__)

BUILTIN_DESCRIPTIONS = {
    "admin": "everything, and identity management",
    "manager": "their teams' records",
    "sales_rep": "creates CRM and sales records; reads their teams', changes their own",
    "marketer": "campaigns and segments; reads every contact",
    "support_agent": "tickets of their teams; reads every contact and order",
    "read_only": "reads everything, changes nothing",
    "partner": "a partner company's user: only records of their partner account",
}


def _permissions(raw: object) -> dict[str, dict[str, str]]:
    """Validated and normalised (every cell spelled out); 400 naming the bad cell."""
    try:
        return rights_json(parse_permissions(raw))
    except ValueError as exc:
        field = str(exc).split(":", 1)[0].split(" ", 1)[0]
        raise bad_request(field if field.startswith("permissions") else "permissions", str(exc)) from None


def _builtin(name: str) -> RoleOut:
    return RoleOut(
        name=name,
        builtin=True,
        description=BUILTIN_DESCRIPTIONS.get(name, ""),
        permissions=rights_json(builtin_rights(name)),
    )  # type: ignore[arg-type]


def _custom(role: CustomRole) -> RoleOut:
    try:
        permissions = rights_json(parse_permissions(role.permissions))
    except ValueError:
        permissions = {}
    return RoleOut(name=role.name, builtin=False, description=role.description or "", permissions=permissions)  # type: ignore[arg-type]


@bp.get("/roles")
def list_roles() -> Response:
    require_admin()
    query_args(())
    with reading(identity().sessions) as session:
        custom = [_custom(r) for r in session.scalars(select(CustomRole).order_by(CustomRole.name))]
    return listing([_builtin(n) for n in BUILTIN_ROLES] + custom, None, RoleList)


@bp.get("/roles/<name>")
def get_role(name: str) -> Response:
    require_admin()
    if is_builtin(name):
        return answer(_builtin(name))
    with reading(identity().sessions) as session:
        role = get_or_404(session, CustomRole, name, "Role")
        return answer(_custom(role))


def _builtin_is_read_only(name: str) -> Problem:
    return conflict(f"{name} is a built-in role: it cannot be created, changed or deleted")


@bp.post("/roles")
def create_role() -> Response:
    actor = require_admin()
    body = parse_body(RoleCreate)
    if is_builtin(body.name):
        raise _builtin_is_read_only(body.name)
    permissions = _permissions(body.permissions)
    runtime = identity()
    with transaction(runtime.sessions) as session:
        if session.get(CustomRole, body.name) is not None:
            raise conflict(f"name: a role named {body.name} exists")
        role = CustomRole(
            name=body.name, description=body.description, permissions=permissions, created_at=utcnow()
        )
        session.add(role)
        audit.record(
            session,
            "role.created",
            actor=actor,
            target_type="role",
            target_id=body.name,
            client_address=client_address(),
            details={"permissions": permissions},
        )
        out = _custom(role)
    runtime.roles.invalidate()
    return answer(out, 201, location=f"/api/v1/roles/{body.name}")


@bp.patch("/roles/<name>")
def update_role(name: str) -> Response:
    actor = require_admin()
    if is_builtin(name):
        raise _builtin_is_read_only(name)
    body = parse_body(RoleUpdate)
    permissions = _permissions(body.permissions) if body.permissions is not None else None
    runtime = identity()
    with transaction(runtime.sessions) as session:
        role = get_or_404(session, CustomRole, name, "Role")
        details: dict[str, object] = {}
        apply_change(details, role, "permissions", permissions)
        apply_change(details, role, "description", body.description)
        if details:
            role.updated_at = utcnow()
            audit.record(
                session,
                "role.updated",
                actor=actor,
                target_type="role",
                target_id=name,
                client_address=client_address(),
                details=details,
            )
        out = _custom(role)
    runtime.roles.invalidate()
    return answer(out)


@bp.delete("/roles/<name>")
def delete_role(name: str) -> Response:
    actor = require_admin()
    if is_builtin(name):
        raise _builtin_is_read_only(name)
    runtime = identity()
    with transaction(runtime.sessions) as session:
        role = get_or_404(session, CustomRole, name, "Role")
        if role_in_use(session, name):
            raise conflict(f"role {name} is still held by users: remove it from them first")
        session.delete(role)
        audit.record(
            session,
            "role.deleted",
            actor=actor,
            target_type="role",
            target_id=name,
            client_address=client_address(),
        )
    runtime.roles.invalidate()
    return no_content()
