"""Sales reports (funnel, win rate and cycle time, forecast, rep KPIs) and quotas.

Served by the sales service process (`crm.sales.v1.SalesReportsService`, `crm.sales.v1.QuotasService`):
domain.py (periods, ratios, rounding), store.py (the grouped queries and their indexes), sql.py (the one
dialect-specific expression), rollup_rules.py and rollup.py (the funnel's monthly rollup, which the
deals' writes keep in step), quotas.py (the quota resource's table), api.py (the servicers;
`install(definition)` joins them to the service).

Nothing is imported here: sales.deals.writes imports the rollup, and the servicers import the deals.
"""
