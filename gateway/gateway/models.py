"""The JSON shapes of what the gateway itself serves (login, health, problems), as pydantic models: they
validate requests and, through their JSON Schemas, describe them in the OpenAPI document. Everything a
service owns is described by its contract instead (gateway/openapi_schemas.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Requests are strict (no "123" -> 123 coercion, no unknown fields): a typo such as "fist_name" is an error
# the client hears about, not a field silently dropped.
_REQUEST = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class TokenRequest(BaseModel):
    model_config = _REQUEST

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str = Field(
        description="opaque; exchange it at POST /api/v1/auth/refresh for a new pair (each is single-use)"
    )
    refresh_expires_in: int = Field(description="seconds until the refresh token's family expires")


class Health(BaseModel):
    status: Literal["ok", "ready"]
    checks: dict[str, str] | None = None


class FieldError(BaseModel):
    field: str
    message: str


class ExistingResource(BaseModel):
    """The record a conflicting create or change collided with."""

    type: str = Field(description="its resource type, e.g. contact")
    id: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = Field(default=None, description="present on validation errors")
    trace_id: str | None = Field(default=None, description="quote it when reporting a problem")
    reason: str | None = Field(
        default=None, description="the service's ErrorInfo reason (UPPER_SNAKE), for programs to branch on"
    )
    unavailable: list[str] | None = Field(default=None, description="present when /readyz fails")
    existing: ExistingResource | None = Field(
        default=None,
        description="on a 409 for a duplicate: the record that already holds the value, when you may read it",
    )
