"""The JSON shapes of the REST API, as pydantic models: they validate requests and, through their JSON
Schemas, describe requests and responses in the OpenAPI document, so the two cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Requests are strict (no "123" -> 123 coercion, no unknown fields): a typo such as "fist_name" is an error
# the client hears about, not a field silently dropped.
_REQUEST = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

Service = Literal["contacts", "sales", "marketing", "support", "notifications"]


class TokenRequest(BaseModel):
    model_config = _REQUEST

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="seconds until the token expires")


class ContactCreate(BaseModel):
    model_config = _REQUEST

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    # The format rule itself belongs to the contacts service; its verdict comes back as a field error.
    email: str = Field(min_length=1, max_length=254, json_schema_extra={"format": "email"})
    phone: str | None = Field(default=None, max_length=40)
    company: str | None = Field(default=None, max_length=200)

    @field_validator("*")
    @classmethod
    def no_control_characters(cls, value: str | None) -> str | None:
        # NUL and friends are never part of a name or an address, and PostgreSQL refuses NUL outright.
        if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("must not contain control characters")
        return value


class Contact(BaseModel):
    id: str
    first_name: str
    last_name: str
    email: str
    phone: str | None
    company: str | None
    created_at: datetime
    updated_at: datetime


class ContactList(BaseModel):
    items: list[Contact]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class ListQuery(BaseModel):
    """Query parameters of list endpoints (lax: they arrive as strings)."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, min_length=1, max_length=512)


class Money(BaseModel):
    amount_minor: int = Field(description="integer count of the currency's minor units")
    currency: str = Field(description="ISO 4217 code")


class SalesSummary(BaseModel):
    contact_id: str
    open_deals: int
    won_deals: int
    open_orders: int
    open_tasks: int
    open_pipeline_value: list[Money]


class MarketingSummary(BaseModel):
    contact_id: str
    segments: list[str]
    campaigns_targeted: int
    responses: int


class SupportSummary(BaseModel):
    contact_id: str
    open_tickets: int
    escalated_tickets: int
    sla_breaches: int
    surveys_answered: int


class Notification(BaseModel):
    id: str
    contact_id: str
    kind: str
    channel: str
    title: str
    body: str
    created_at: datetime | None
    source_event_id: str


class NotificationList(BaseModel):
    items: list[Notification]


class Customer360(BaseModel):
    contact: Contact | None
    sales: SalesSummary | None
    marketing: MarketingSummary | None
    support: SupportSummary | None
    notifications: NotificationList | None
    unavailable: list[Service] = Field(
        description="services that did not answer in time; their sections are null"
    )


class Health(BaseModel):
    status: Literal["ok", "ready"]
    checks: dict[str, str] | None = None


class FieldError(BaseModel):
    field: str
    message: str


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
