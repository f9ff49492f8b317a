"""Privacy in the sales service: its part of a person's data export and erasure on `contact_erased`
(crm_platform.personal_data). Each kind of record about people adds its exporter and eraser to
PERSONAL_DATA (sales.people_references: deals and leads; sales.orders.references: orders and payments;
sales.customer_records: quotes, tasks, appointments and deal registrations); sales.main wires them.
"""

from __future__ import annotations

from crm.sales.v1 import privacy_pb2, privacy_pb2_grpc
from crm_platform.personal_data import PersonalData
from crm_platform.service import ServiceDefinition

PERSONAL_DATA = PersonalData("sales")


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """`definition` serving PrivacyService and applying contact_erased."""
    return definition.include(
        PERSONAL_DATA.registration(privacy_pb2, privacy_pb2_grpc), subscriptions=PERSONAL_DATA.subscriptions
    )
