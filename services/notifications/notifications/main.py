"""Entry points of the notifications service: `crm-notifications serve|worker|migrate|check-worker`."""

from __future__ import annotations

import sys
from pathlib import Path

from crm_platform.service import ServiceDefinition
from crm_platform.service import main as service_main
from notifications import api, events, privacy
from notifications.store import Base, messaging

DEFINITION = ServiceDefinition(
    name="notifications",
    metadata=Base.metadata,
    messaging=messaging,
    migrations_dir=Path(__file__).resolve().parent.parent / "migrations",
    register_grpc=api.register,
    subscriptions=events.SUBSCRIPTIONS,
)
privacy.install(DEFINITION)  # PrivacyService (export) and erasure on contact_erased


def main() -> int:
    return service_main(DEFINITION)


if __name__ == "__main__":
    sys.exit(main())
