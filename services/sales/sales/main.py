"""Entry points of the sales service: `crm-sales serve|worker|migrate|check-worker`."""

from __future__ import annotations

import sys
from pathlib import Path

from crm_platform.merges import MergeFollowers
from crm_platform.service import ServiceDefinition
from crm_platform.service import main as service_main
from sales import api, customer_records, events, privacy
from sales.activities import install as install_activities
from sales.catalog.api import install as install_catalog
from sales.deals import install as install_deals
from sales.leads import install as install_leads
from sales.merge_references import follow_merges
from sales.orders import merges as order_merges
from sales.orders import references as order_references
from sales.orders.api import install as install_orders
from sales.payments.api import install as install_payments
from sales.people_references import hold_personal_data
from sales.quotes.api import install as install_quotes
from sales.registrations import install as install_registrations
from sales.reports.api import install as install_reports
from sales.store import Base, messaging

DEFINITION = ServiceDefinition(
    name="sales",
    metadata=Base.metadata,
    messaging=messaging,
    migrations_dir=Path(__file__).resolve().parent.parent / "migrations",
    register_grpc=api.register,
    subscriptions=events.SUBSCRIPTIONS,
)
hold_personal_data(privacy.PERSONAL_DATA)  # deals and converted leads: exported, leads erased
order_references.hold_personal_data(privacy.PERSONAL_DATA)  # orders and payments: exported
customer_records.hold_personal_data(privacy.PERSONAL_DATA)  # quotes, activities, registrations
privacy.install(DEFINITION)  # PrivacyService (export) and erasure on contact_erased
# contact_merged and company_merged: deals' and converted leads' references move to the survivor
# (sales.merge_references).
DEFINITION.include(
    subscriptions=customer_records.follow_merges(
        order_merges.follow_merges(follow_merges(MergeFollowers("sales")))
    ).subscriptions
)  # and orders' and payments' references (sales.orders.merges), quotes', tasks' and appointments'
install_deals(DEFINITION)  # crm.sales.v1.PipelinesService, DealsService
install_leads(DEFINITION)  # crm.sales.v1.LeadsService and its rules and forms; behaviour scoring
install_catalog(DEFINITION)  # crm.sales.v1.CatalogService, PriceListsService, PartnerTermsService
install_orders(DEFINITION)  # crm.sales.v1.OrdersService
install_payments(DEFINITION)  # crm.sales.v1.PaymentsService; the worker's overdue sweep
install_quotes(DEFINITION)  # crm.sales.v1.QuotesService; the worker's expiry sweep
install_activities(DEFINITION)  # Tasks-, Appointments-, CalendarFeedsService; the worker's reminders
install_registrations(DEFINITION)  # crm.sales.v1.DealRegistrationsService
install_reports(DEFINITION)  # crm.sales.v1.SalesReportsService, QuotasService


def main() -> int:
    return service_main(DEFINITION)


if __name__ == "__main__":
    sys.exit(main())
