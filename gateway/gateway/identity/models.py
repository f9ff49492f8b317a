"""JSON shapes of the identity routes, as pydantic models: they validate requests and, through their JSON
Schemas, describe them in the OpenAPI document (identity/openapi.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.identity.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

# Strict like the gateway's other requests: no coercion, unknown fields refused.
_REQUEST = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)
# Passwords are taken as typed: stripping would change them.
_PASSWORD_REQUEST = ConfigDict(extra="forbid", strict=True)

EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
# Names are one line of text; no control characters (NUL cannot even be stored by PostgreSQL).
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
TEXT_PATTERN = r"^[^\x00]*$"
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
Id = Annotated[str, Field(pattern=ID_PATTERN)]
Level = Literal["none", "own", "team", "all"]
Matrix = dict[str, dict[str, Level]]
Password = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
RoleName = Field(min_length=2, max_length=64, pattern=r"^[a-z][a-z0-9_]{1,63}$")


# --- users -----------------------------------------------------------------------------------------


class UserCreate(BaseModel):
    model_config = _PASSWORD_REQUEST

    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    name: str = Field(default="", max_length=200, pattern=LINE_PATTERN)
    password: str = Password
    roles: list[Id] = Field(default_factory=list, max_length=20)
    team_ids: list[Id] = Field(default_factory=list, max_length=50)
    primary_team_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    partner_account_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    active: bool = True


class UserUpdate(BaseModel):
    """Only the fields present change; password changes go through :reset-password."""

    model_config = _REQUEST

    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    name: str | None = Field(default=None, max_length=200, pattern=LINE_PATTERN)
    roles: list[Id] | None = Field(default=None, max_length=20)
    team_ids: list[Id] | None = Field(default=None, max_length=50)
    primary_team_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    partner_account_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    active: bool | None = None


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    roles: list[str]
    team_ids: list[str]
    primary_team_id: str | None
    partner_account_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime | None


class UserList(BaseModel):
    items: list[UserOut]
    next_cursor: str | None


class PasswordReset(BaseModel):
    model_config = _PASSWORD_REQUEST

    new_password: str = Password


class PasswordChange(BaseModel):
    model_config = _PASSWORD_REQUEST

    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Password


class TeamRef(BaseModel):
    id: str
    name: str
    primary: bool


class PartnerAccountRef(BaseModel):
    id: str
    name: str
    kind: Literal["distributor", "reseller"]


class Me(BaseModel):
    """The caller: what a client needs to shape its screens."""

    kind: Literal["user", "api_key"]
    id: str
    email: str | None
    name: str | None
    roles: list[str]
    teams: list[TeamRef]
    primary_team_id: str | None
    partner_account: PartnerAccountRef | None
    scopes: list[str]
    rights: Matrix = Field(description="resource type -> action -> level (none, own, team, all)")


# --- teams -----------------------------------------------------------------------------------------


class TeamCreate(BaseModel):
    model_config = _REQUEST

    name: str = Field(min_length=1, max_length=200, pattern=LINE_PATTERN)
    description: str = Field(default="", max_length=1000, pattern=TEXT_PATTERN)
    member_ids: list[Id] = Field(default_factory=list, max_length=500)


class TeamUpdate(BaseModel):
    model_config = _REQUEST

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=LINE_PATTERN)
    description: str | None = Field(default=None, max_length=1000, pattern=TEXT_PATTERN)


class TeamMembers(BaseModel):
    model_config = _REQUEST

    user_ids: list[Id] = Field(min_length=1, max_length=500)


class TeamOut(BaseModel):
    id: str
    name: str
    description: str
    member_ids: list[str]
    created_at: datetime
    updated_at: datetime | None


class TeamList(BaseModel):
    items: list[TeamOut]
    next_cursor: str | None


# --- roles -----------------------------------------------------------------------------------------


class RoleCreate(BaseModel):
    # Not strict about `permissions`' inner shape here: parse_permissions checks it and names the bad cell.
    model_config = _REQUEST

    name: str = RoleName
    description: str = Field(default="", max_length=1000, pattern=TEXT_PATTERN)
    permissions: dict[str, dict[str, str]]


class RoleUpdate(BaseModel):
    model_config = _REQUEST

    description: str | None = Field(default=None, max_length=1000, pattern=TEXT_PATTERN)
    permissions: dict[str, dict[str, str]] | None = None


class RoleOut(BaseModel):
    name: str
    builtin: bool
    description: str
    permissions: Matrix


class RoleList(BaseModel):
    items: list[RoleOut]
    next_cursor: str | None


# --- partner accounts ------------------------------------------------------------------------------


class PartnerAccountCreate(BaseModel):
    model_config = _REQUEST

    name: str = Field(min_length=1, max_length=200, pattern=LINE_PATTERN)
    kind: Literal["distributor", "reseller"]
    active: bool = True


class PartnerAccountUpdate(BaseModel):
    model_config = _REQUEST

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=LINE_PATTERN)
    kind: Literal["distributor", "reseller"] | None = None
    active: bool | None = None


class PartnerAccountOut(BaseModel):
    id: str
    name: str
    kind: Literal["distributor", "reseller"]
    active: bool
    created_at: datetime
    updated_at: datetime | None


class PartnerAccountList(BaseModel):
    items: list[PartnerAccountOut]
    next_cursor: str | None


# --- API keys --------------------------------------------------------------------------------------


class ApiKeyCreate(BaseModel):
    # Lax only so that `expires_at` may be RFC 3339 text; strings stay strings (pydantic 2 never makes
    # a number into one).
    model_config = ConfigDict(extra="forbid", strict=False, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=LINE_PATTERN)
    scopes: list[Annotated[str, Field(max_length=64)]] = Field(
        min_length=1, max_length=20, description="`<service>:read` or `<service>:write`, e.g. contacts:read"
    )
    expires_at: datetime | None = Field(default=None, description="RFC 3339; none: until revoked")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="the public part of the key (crm_<prefix>_...), to recognise it")
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="recorded at most once a minute")


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the key itself: shown this once, stored only as a keyed hash")


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None


# --- audit -----------------------------------------------------------------------------------------


class AuditEventOut(BaseModel):
    id: str
    occurred_at: datetime
    actor_id: str | None
    actor_kind: str
    action: str
    target_type: str | None
    target_id: str | None
    client_address: str | None
    details: dict[str, object]


class AuditEventList(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None


# --- tokens ----------------------------------------------------------------------------------------


class RefreshRequest(BaseModel):
    model_config = _REQUEST

    refresh_token: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")
