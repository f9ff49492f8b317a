"""The gateway's own tables. It owns no business data (DESIGN.md): only users and idempotency records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from crm_platform.db import UtcDateTime


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Stored normalised (stripped, lower case) so the unique index is the case-insensitive rule.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdempotencyRecord(Base):
    """One POST made with an Idempotency-Key, scoped to the caller so keys of two users never collide.

    `status` is NULL while the first request is still being processed."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The response is replayed byte for byte; headers are the few that matter to a client (Location...).
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    content_type: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
