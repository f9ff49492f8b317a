"""Sales reports (funnel, win rate and cycle time, forecast, rep KPIs) and quotas.

Served by the sales service process (`crm.sales.v1.SalesReportsService`, `crm.sales.v1.QuotasService`):
domain.py (periods, ratios, rounding), store.py (the grouped queries and their indexes), sql.py (the one
dialect-specific expression), quotas.py (the quota resource's table), api.py (the servicers).
`install(definition)` joins them to the service.
"""

from __future__ import annotations

from sales.reports.api import install, register

__all__ = ["install", "register"]
