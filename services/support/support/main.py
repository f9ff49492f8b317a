"""Entry points of the support service: `crm-support serve|worker|migrate|check-worker`."""

from __future__ import annotations

import sys
from pathlib import Path

from crm_platform.merges import MergeFollowers
from crm_platform.service import ServiceDefinition
from crm_platform.service import main as service_main
from support import api, events, privacy
from support.store import Base, messaging

DEFINITION = ServiceDefinition(
    name="support",
    metadata=Base.metadata,
    messaging=messaging,
    migrations_dir=Path(__file__).resolve().parent.parent / "migrations",
    register_grpc=api.register,
    subscriptions=events.SUBSCRIPTIONS,
)
privacy.install(DEFINITION)  # PrivacyService (export) and erasure on contact_erased
# contact_merged and company_merged: nothing of support's refers to contacts or companies yet; its first
# table that does adds its re-pointer here (crm_platform.merges).
DEFINITION.include(subscriptions=MergeFollowers("support").subscriptions)


def main() -> int:
    return service_main(DEFINITION)


if __name__ == "__main__":
    sys.exit(main())
