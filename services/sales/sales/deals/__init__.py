"""Pipelines and deals: opportunities worked through ordered stages until won or lost.

Served by the sales service process (`crm.sales.v1.PipelinesService`, `crm.sales.v1.DealsService`):
domain.py (rules, no I/O), store.py (tables and queries), writes.py (create, move and close, shared with
lead conversion), events.py (outbox), api.py (the servicers). `install(definition)` joins them to the
service.
"""

from __future__ import annotations

from sales.deals.api import install, register

__all__ = ["install", "register"]
