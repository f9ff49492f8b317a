"""The identity routes in the OpenAPI document: paths, the pydantic models behind their schemas, the
API-key security scheme. gateway/openapi.py merges these into the document it builds."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gateway.identity import models

PROBLEM_JSON = "application/problem+json"

REQUEST_MODELS: list[type[BaseModel]] = [
    models.UserCreate,
    models.UserUpdate,
    models.PasswordReset,
    models.PasswordChange,
    models.TeamCreate,
    models.TeamUpdate,
    models.TeamMembers,
    models.RoleCreate,
    models.RoleUpdate,
    models.PartnerAccountCreate,
    models.PartnerAccountUpdate,
    models.ApiKeyCreate,
    models.RefreshRequest,
]
RESPONSE_MODELS: list[type[BaseModel]] = [
    models.UserOut,
    models.UserList,
    models.Me,
    models.TeamOut,
    models.TeamList,
    models.RoleOut,
    models.RoleList,
    models.PartnerAccountOut,
    models.PartnerAccountList,
    models.ApiKeyOut,
    models.ApiKeyCreated,
    models.ApiKeyList,
    models.AuditEventOut,
    models.AuditEventList,
]
SECURITY_SCHEMES: dict[str, Any] = {
    "apiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An integration's API key (`crm_<prefix>_<secret>`), made by an admin at "
        "POST /api/v1/api-keys. It may also be sent as `Authorization: Bearer <key>`.",
    }
}
# Either credential will do on every protected operation.
DOCUMENT_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"apiKeyHeader": []}]
TAGS = [
    {
        "name": "identity",
        "description": "Users, teams, roles, partner accounts, API keys and the audit "
        "trail. Managing them is the `admin` role's; everyone reads /me.",
    },
]

TOO_MANY_ATTEMPTS: dict[str, Any] = {
    "description": "Too many failed sign-in attempts for this account or from this address: wait "
    "`Retry-After` seconds. After a few free failures each further attempt must wait 1, 2, 4 ... seconds "
    "(up to the throttle window) after the last failure; the password is not checked meanwhile.",
    "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
}
_PUBLIC: list[dict[str, list[str]]] = []


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _problems(*names: str) -> dict[str, Any]:
    codes = {
        "BadRequest": "400",
        "Unauthorized": "401",
        "Forbidden": "403",
        "NotFound": "404",
        "Conflict": "409",
        "ValidationFailed": "422",
        "InternalError": "500",
        "UnsupportedMediaType": "415",
        "PayloadTooLarge": "413",
    }
    return {codes[n]: _ref("responses", n) for n in ("InternalError", "Unauthorized", *names)}


def _json(schema: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref("schemas", schema)}},
    }
    if headers:
        answer["headers"] = headers
    return answer


_LOCATION = {"Location": {"description": "URL of the new resource", "schema": {"type": "string"}}}
_BODY_PROBLEMS = ("BadRequest", "UnsupportedMediaType", "PayloadTooLarge", "ValidationFailed")


def _op(
    operation_id: str,
    summary: str,
    *,
    request: str | None = None,
    ok: tuple[str, str | None, str] = ("200", None, "OK"),
    problems: tuple[str, ...] = (),
    parameters: list[dict[str, Any]] | None = None,
    description: str = "",
    tag: str = "identity",
    extra_responses: dict[str, Any] | None = None,
) -> dict[str, Any]:
    code, schema, text = ok
    if schema is None:
        success: dict[str, Any] = {"description": text}
    else:
        success = _json(schema, text, _LOCATION if code == "201" else None)
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": {
            code: success,
            **_problems(*problems, *(_BODY_PROBLEMS if request else ())),
            **(extra_responses or {}),
        },
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if request:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref("schemas", request)}},
        }
    return operation


def _path(name: str, description: str = "") -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "maxLength": 64},
    }
    if description:
        parameter["description"] = description
    return parameter


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


_PAGING = [
    _query("limit", "page size", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
    _query("cursor", "`next_cursor` of the previous page (only valid for the same caller and filters)"),
]
_ADMIN = ("Forbidden",)


def paths() -> dict[str, Any]:
    user_id, team_id = _path("user_id"), _path("team_id")
    return {
        "/api/v1/auth/refresh": {
            "post": {
                **_op(
                    "refreshToken",
                    "Exchange a refresh token for a new access token and refresh token",
                    request="RefreshRequest",
                    ok=("200", "TokenResponse", "A fresh pair"),
                    tag="auth",
                    description="Each refresh token works once: the answer carries its successor. "
                    "Presenting a retired one again revokes every token descended from the same login.",
                ),
                "security": _PUBLIC,
            }
        },
        "/api/v1/auth/revoke": {
            "post": {
                **_op(
                    "revokeToken",
                    "Sign out: revoke a refresh token and every token of its login",
                    request="RefreshRequest",
                    ok=("204", None, "Revoked (also for unknown tokens)"),
                    tag="auth",
                ),
                "security": _PUBLIC,
            }
        },
        "/api/v1/users": {
            "post": _op(
                "createUser",
                "Create a user (admins)",
                request="UserCreate",
                ok=("201", "UserOut", "Created"),
                problems=(*_ADMIN, "Conflict"),
                description="A partner user (`partner_account_id`) may hold `partner` and custom "
                "roles, never a built-in staff role; `partner` needs a partner account.",
            ),
            "get": _op(
                "listUsers",
                "List users (admins)",
                ok=("200", "UserList", "A page of users"),
                problems=(*_ADMIN, "BadRequest"),
                parameters=[
                    _query("email", "exact email"),
                    _query("active", "true or false", {"type": "boolean"}),
                    _query("role", "holds this role"),
                    _query("team_id", "member of this team"),
                    *_PAGING,
                ],
            ),
        },
        "/api/v1/users/{user_id}": {
            "get": _op(
                "getUser",
                "Get a user (admins)",
                ok=("200", "UserOut", "The user"),
                problems=(*_ADMIN, "NotFound"),
                parameters=[user_id],
            ),
            "patch": _op(
                "updateUser",
                "Change a user (admins): only the fields present change",
                request="UserUpdate",
                ok=("200", "UserOut", "The user"),
                problems=(*_ADMIN, "NotFound", "Conflict"),
                parameters=[user_id],
                description="Roles, teams and the partner account apply to the user's existing "
                "tokens within seconds (each gateway worker re-reads a user's state every "
                "GATEWAY_IDENTITY_CACHE_SECONDS).",
            ),
        },
        "/api/v1/users/{user_id}:deactivate": {
            "post": _op(
                "deactivateUser",
                "Deactivate a user: their tokens stop working within seconds",
                ok=("200", "UserOut", "The user"),
                problems=(*_ADMIN, "NotFound", "Conflict"),
                parameters=[user_id],
            )
        },
        "/api/v1/users/{user_id}:reactivate": {
            "post": _op(
                "reactivateUser",
                "Reactivate a user (they sign in again; old tokens stay dead)",
                ok=("200", "UserOut", "The user"),
                problems=(*_ADMIN, "NotFound"),
                parameters=[user_id],
            )
        },
        "/api/v1/users/{user_id}:reset-password": {
            "post": _op(
                "resetUserPassword",
                "Set another user's password (admins); ends all their sessions. Your own: 409, use "
                "/api/v1/me:change-password",
                request="PasswordReset",
                ok=("204", None, "Done"),
                problems=(*_ADMIN, "NotFound", "Conflict"),
                parameters=[user_id],
            )
        },
        "/api/v1/me": {
            "get": _op(
                "getMe",
                "The caller: teams, roles, effective rights, partner account",
                ok=("200", "Me", "The caller"),
            )
        },
        "/api/v1/me:change-password": {
            "post": {
                **_op(
                    "changeMyPassword",
                    "Change one's own password (needs the current one)",
                    request="PasswordChange",
                    ok=("200", "TokenResponse", "A fresh token pair"),
                    problems=("Forbidden",),
                    description="Ends every other session of the user. Wrong current passwords are "
                    "throttled like sign-ins.",
                    extra_responses={"429": TOO_MANY_ATTEMPTS},
                ),
            }
        },
        "/api/v1/teams": {
            "post": _op(
                "createTeam",
                "Create a team (admins)",
                request="TeamCreate",
                ok=("201", "TeamOut", "Created"),
                problems=(*_ADMIN, "Conflict"),
            ),
            "get": _op(
                "listTeams",
                "List teams (admins)",
                ok=("200", "TeamList", "A page of teams"),
                problems=(*_ADMIN, "BadRequest"),
                parameters=[_query("name", "exact name"), *_PAGING],
            ),
        },
        "/api/v1/teams/{team_id}": {
            "get": _op(
                "getTeam",
                "Get a team (admins)",
                ok=("200", "TeamOut", "The team"),
                problems=(*_ADMIN, "NotFound"),
                parameters=[team_id],
            ),
            "patch": _op(
                "updateTeam",
                "Rename or describe a team (admins)",
                request="TeamUpdate",
                ok=("200", "TeamOut", "The team"),
                problems=(*_ADMIN, "NotFound", "Conflict"),
                parameters=[team_id],
            ),
        },
        "/api/v1/teams/{team_id}:add-members": {
            "post": _op(
                "addTeamMembers",
                "Add users to a team (admins); a user's first team is their primary",
                request="TeamMembers",
                ok=("200", "TeamOut", "The team"),
                problems=(*_ADMIN, "NotFound"),
                parameters=[team_id],
            )
        },
        "/api/v1/teams/{team_id}:remove-members": {
            "post": _op(
                "removeTeamMembers",
                "Remove users from a team (admins)",
                request="TeamMembers",
                ok=("200", "TeamOut", "The team"),
                problems=(*_ADMIN, "NotFound"),
                parameters=[team_id],
            )
        },
        "/api/v1/roles": {
            "get": _op(
                "listRoles",
                "Built-in and custom roles with their matrices (admins)",
                ok=("200", "RoleList", "Every role"),
                problems=(*_ADMIN, "BadRequest"),
            ),
            "post": _op(
                "createRole",
                "Create a custom role (admins)",
                request="RoleCreate",
                ok=("201", "RoleOut", "Created"),
                problems=(*_ADMIN, "Conflict"),
                description="`permissions`: resource type -> action (create, read, update, delete) "
                "-> level (none, own, team, all); cells left out are `none`. A bad cell is a 400 "
                "naming it (e.g. `permissions.contact.read`). A user's rights are the union of "
                "their roles.",
            ),
        },
        "/api/v1/roles/{name}": {
            "get": _op(
                "getRole",
                "Get a role (admins)",
                ok=("200", "RoleOut", "The role"),
                problems=(*_ADMIN, "NotFound"),
                parameters=[_path("name")],
            ),
            "patch": _op(
                "updateRole",
                "Change a custom role (admins; built-in roles are read-only: 409)",
                request="RoleUpdate",
                ok=("200", "RoleOut", "The role"),
                problems=(*_ADMIN, "NotFound", "Conflict"),
                parameters=[_path("name")],
            ),
            "delete": _op(
                "deleteRole",
                "Delete a custom role no user holds (admins)",
                ok=("204", None, "Deleted"),
                problems=(*_ADMIN, "NotFound", "Conflict"),
                parameters=[_path("name")],
            ),
        },
        "/api/v1/partner-accounts": {
            "post": _op(
                "createPartnerAccount",
                "Create a partner account (admins)",
                request="PartnerAccountCreate",
                ok=("201", "PartnerAccountOut", "Created"),
                problems=(*_ADMIN, "Conflict"),
            ),
            "get": _op(
                "listPartnerAccounts",
                "List partner accounts (a partner user sees only their own)",
                ok=("200", "PartnerAccountList", "A page of partner accounts"),
                problems=("Forbidden", "BadRequest"),
                parameters=[
                    _query(
                        "kind",
                        "distributor or reseller",
                        {"type": "string", "enum": ["distributor", "reseller"]},
                    ),
                    _query("active", "true or false", {"type": "boolean"}),
                    *_PAGING,
                ],
            ),
        },
        "/api/v1/partner-accounts/{account_id}": {
            "get": _op(
                "getPartnerAccount",
                "Get a partner account (404 for a partner user's other accounts)",
                ok=("200", "PartnerAccountOut", "The account"),
                problems=("Forbidden", "NotFound"),
                parameters=[_path("account_id")],
            ),
            "patch": _op(
                "updatePartnerAccount",
                "Change a partner account (admins); inactive signs its users out",
                request="PartnerAccountUpdate",
                ok=("200", "PartnerAccountOut", "The account"),
                problems=(*_ADMIN, "NotFound", "Conflict"),
                parameters=[_path("account_id")],
            ),
        },
        "/api/v1/api-keys": {
            "post": _op(
                "createApiKey",
                "Create an API key (admins): the key is in this answer only",
                request="ApiKeyCreate",
                ok=("201", "ApiKeyCreated", "Created"),
                problems=_ADMIN,
                description="Scopes: `<service>:read` (read every record of that service's "
                "types) or `<service>:write` (every action). Stored as an HMAC-SHA256 under a server "
                "pepper; send it as `X-API-Key` or `Authorization: Bearer`.",
            ),
            "get": _op(
                "listApiKeys",
                "List API keys (admins; never the keys themselves)",
                ok=("200", "ApiKeyList", "A page of keys"),
                problems=(*_ADMIN, "BadRequest"),
                parameters=[_query("revoked", "true or false", {"type": "boolean"}), *_PAGING],
            ),
        },
        "/api/v1/api-keys/{key_id}": {
            "get": _op(
                "getApiKey",
                "Get an API key's description (admins)",
                ok=("200", "ApiKeyOut", "The key"),
                problems=(*_ADMIN, "NotFound"),
                parameters=[_path("key_id")],
            )
        },
        "/api/v1/api-keys/{key_id}:revoke": {
            "post": _op(
                "revokeApiKey",
                "Revoke an API key (admins): refused within seconds",
                ok=("200", "ApiKeyOut", "The key"),
                problems=(*_ADMIN, "NotFound"),
                parameters=[_path("key_id")],
            )
        },
        "/api/v1/audit-events": {
            "get": _op(
                "listAuditEvents",
                "The audit trail, newest first (admins)",
                ok=("200", "AuditEventList", "A page of events"),
                problems=(*_ADMIN, "BadRequest"),
                description="Sign-ins and failed sign-ins, refresh-token reuse, and every change to "
                "users, teams, roles, partner accounts and API keys.",
                parameters=[
                    _query("actor_id", "who did it"),
                    _query("action", "e.g. login.failed, user.deactivated, api_key.revoked"),
                    _query("target_id", "what it was done to"),
                    _query("since", "from (RFC 3339, inclusive)", {"type": "string", "format": "date-time"}),
                    _query("until", "to (RFC 3339, exclusive)", {"type": "string", "format": "date-time"}),
                    *_PAGING,
                ],
            ),
        },
    }
