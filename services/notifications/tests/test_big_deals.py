"""Sales' `big_deal_detected` becomes a notification owned like the deal, so the deal's owner and the
managers of its team read it and nobody of another team does; its text reads the amount in the
currency's minor units without a float."""

from __future__ import annotations

import uuid
from typing import Any

from crm.common.v1 import money_pb2
from crm.events.v1 import deals_pb2
from crm_platform.db import transaction
from crm_platform.events.wire import Event
from crm_platform.protobuf import as_event_payload
from notifications import domain, events

from .conftest import Service, caller

MANAGER_A = caller("mgr-a", "manager", ("team-a",))
MANAGER_B = caller("mgr-b", "manager", ("team-b",))
OWNER = caller("rep-1", "sales_rep", ("team-a",))


def _big_deal(**fields: Any) -> Event:
    payload = as_event_payload(
        deals_pb2.BigDealDetected(
            deal_id="d-1",
            title="Acme: 400 seats",
            amount=money_pb2.Money(amount_minor=1_250_000, currency="EUR"),
            threshold=money_pb2.Money(amount_minor=1_000_000, currency="EUR"),
            **fields,
        )
    )
    return Event(str(uuid.uuid4()), "big_deal_detected", "crm/sales", None, 1, payload, {}, "deal", "d-1", 1)


def test_a_big_deal_is_told_to_the_managers_of_its_team(service: Service) -> None:
    with transaction(service.runtime.sessions) as session:
        events.on_big_deal_detected(session, _big_deal(contact_id="c-1", owner_id="rep-1", team_id="team-a"))
    [told] = service.list(MANAGER_A)
    assert (told.kind, told.title, told.body, told.contact_id) == (
        "big_deal",
        "Big deal: Acme: 400 seats",
        "Acme: 400 seats is worth 12,500.00 EUR.",
        "c-1",
    )
    assert [n.id for n in service.list(OWNER)] == [told.id]
    assert service.list(MANAGER_B) == []


def test_amounts_read_in_the_currencys_own_minor_unit() -> None:
    assert domain.money_text(1_250_000, "EUR") == "12,500.00 EUR"
    assert domain.money_text(1_250_000, "JPY") == "1,250,000 JPY"
    assert domain.money_text(1_250_005, "KWD") == "1,250.005 KWD"
    assert domain.money_text(-5, "USD") == "-0.05 USD"
