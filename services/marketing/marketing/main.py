"""Entry points of the marketing service: `crm-marketing serve|worker|migrate|check-worker`."""

from __future__ import annotations

import sys
from pathlib import Path

from crm_platform.merges import MergeFollowers
from crm_platform.service import ServiceDefinition
from crm_platform.service import main as service_main
from marketing import api, events, privacy
from marketing.store import Base, messaging

DEFINITION = ServiceDefinition(
    name="marketing",
    metadata=Base.metadata,
    messaging=messaging,
    migrations_dir=Path(__file__).resolve().parent.parent / "migrations",
    register_grpc=api.register,
    subscriptions=events.SUBSCRIPTIONS,
)
privacy.install(DEFINITION)  # PrivacyService (export) and erasure on contact_erased
# contact_merged and company_merged: nothing of marketing's refers to contacts or companies yet; its first
# table that does adds its re-pointer here (crm_platform.merges).
DEFINITION.include(subscriptions=MergeFollowers("marketing").subscriptions)


def main() -> int:
    return service_main(DEFINITION)


if __name__ == "__main__":
    sys.exit(main())
