"""Support' database: models and queries. The only module that touches the database.

The service owns tickets, SLAs and escalations, the knowledge base and satisfaction surveys.
Their tables arrive with the issues that build them; until then the database holds the outbox and
inbox every service has.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from crm_platform.events import messaging_tables


class Base(DeclarativeBase):
    pass


messaging = messaging_tables(Base.metadata)
