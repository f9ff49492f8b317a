"""The record of erasures: which contact was erased when and by whom (ids and a time, nothing personal).
The contact's row itself stays as the tombstone (contacts.privacy.erasure)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from contacts.store import Base
from crm_platform.db import UtcDateTime


class ErasedContact(Base):
    __tablename__ = "erased_contacts"

    contact_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UtcDateTime)
    erased_by: Mapped[str] = mapped_column(String(255))
