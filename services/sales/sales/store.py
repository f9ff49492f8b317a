"""Sales' database: models and queries. The only module that touches the database.

The service owns leads, pipelines, deals, products, quotes, orders, payments, tasks and reminders.
Their tables arrive with the issues that build them; until then the database holds the outbox and
inbox every service has.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from crm_platform.events import messaging_tables
from crm_platform.resources import resource_tables


class Base(DeclarativeBase):
    pass


messaging = messaging_tables(Base.metadata)
# History, idempotency keys and the service's secrets (cursor keys): shared by every aggregate (0003).
resources = resource_tables(Base.metadata)
