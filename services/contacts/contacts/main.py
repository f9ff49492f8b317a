"""Entry points of the contacts service: `crm-contacts serve|worker|migrate|check-worker`."""

from __future__ import annotations

import sys
from pathlib import Path

from contacts import api
from contacts.companies import install as install_companies
from contacts.consent import install as install_consent
from contacts.custom_fields import install as install_custom_fields
from contacts.imports import install as install_imports
from contacts.merge import install as install_merge
from contacts.overview import install as install_overview
from contacts.privacy import install as install_privacy
from contacts.store import Base, messaging
from contacts.timeline import wiring as timeline_wiring
from crm_platform.service import ServiceDefinition
from crm_platform.service import main as service_main

DEFINITION = ServiceDefinition(
    name="contacts",
    metadata=Base.metadata,
    messaging=messaging,
    migrations_dir=Path(__file__).resolve().parent.parent / "migrations",
    register_grpc=api.register,
)
timeline_wiring.extend(DEFINITION)  # interactions and the timeline: servicers, worker subscriptions
install_companies(DEFINITION)  # crm.contacts.v1.CompaniesService
install_consent(DEFINITION)  # crm.contacts.v1.ConsentService
install_privacy(DEFINITION)  # crm.contacts.v1.PrivacyService; the worker re-applies contact_erased
install_imports(DEFINITION)  # crm.contacts.v1.ImportsService and the worker's import jobs
install_merge(DEFINITION)  # crm.contacts.v1.MergeService: duplicates, merges of contacts and companies
install_custom_fields(DEFINITION)  # crm.contacts.v1.CustomFieldsService
install_overview(DEFINITION)  # crm.contacts.v1.ContactOverviewService: the 360's contacts section


def main() -> int:
    return service_main(DEFINITION)


if __name__ == "__main__":
    sys.exit(main())
