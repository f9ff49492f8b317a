"""Privacy in the marketing service: its part of a person's data export and erasure on `contact_erased`
(crm_platform.personal_data). marketing holds no records about people yet (its tables arrive with the issues
that build them): the first table holding personal data adds its exporter and eraser to PERSONAL_DATA.
Its outbox holds no events about people; its inbox only ids.
"""

from __future__ import annotations

from crm.marketing.v1 import privacy_pb2, privacy_pb2_grpc
from crm_platform.personal_data import PersonalData
from crm_platform.service import ServiceDefinition

PERSONAL_DATA = PersonalData("marketing")


def install(definition: ServiceDefinition) -> ServiceDefinition:
    """`definition` serving PrivacyService and applying contact_erased."""
    return definition.include(
        PERSONAL_DATA.registration(privacy_pb2, privacy_pb2_grpc), subscriptions=PERSONAL_DATA.subscriptions
    )
