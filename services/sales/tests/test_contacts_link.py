"""Sales' calls to the contacts service have a deadline (SALES_CONTACTS_CALL_SECONDS), and contacts not
answering in time or not reachable is UNAVAILABLE to sales' own caller, never an unhandled error: against
a real gRPC server that answers too late, and an address where nothing listens."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm.sales.v1 import leads_pb2
from crm_platform.errors import Unavailable
from crm_platform.listen_ports import free_port
from crm_platform.testing.callers import caller_metadata
from sales.leads.contacts_link import ContactsLink, LeadPerson

REP = caller_metadata("rep-1", "sales_rep", team_ids=("team-a",))
DEADLINE = 0.3
LATE = 3.0


class _LateContacts(contacts_pb2_grpc.ContactsServiceServicer):
    """A contacts server that answers every call after LATE seconds (or as soon as it is stopped)."""

    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping

    def GetContact(self, request: Any, context: grpc.ServicerContext) -> contacts_pb2.Contact:
        self.stopping.wait(LATE)
        return contacts_pb2.Contact(id=request.id)

    def CreateContact(self, request: Any, context: grpc.ServicerContext) -> contacts_pb2.Contact:
        self.stopping.wait(LATE)
        return contacts_pb2.Contact(id="late")


@pytest.fixture
def late_contacts(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The address of a real gRPC contacts server that answers too late; calls wait DEADLINE seconds."""
    monkeypatch.setenv("SALES_CONTACTS_CALL_SECONDS", str(DEADLINE))
    stopping = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    contacts_pb2_grpc.add_ContactsServiceServicer_to_server(_LateContacts(stopping), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stopping.set()
        server.stop(0)


def _nobody_listening() -> str:
    return f"127.0.0.1:{free_port()}"  # a port just free: nothing listens on it


def _person() -> LeadPerson:
    return LeadPerson(
        "Ada", "Lovelace", "ada@example.com", "", "", "", "", "", "", "", "", "rep-1", "team-a", ""
    )


def test_a_call_past_its_deadline_is_unavailable_in_about_the_deadline(late_contacts: str) -> None:
    link = ContactsLink(late_contacts)
    started = time.monotonic()
    with pytest.raises(Unavailable) as late:
        link.get_contact("c-1", [])
    took = time.monotonic() - started
    assert took < LATE / 2, f"waited {took:.2f} s: the deadline was not applied"
    assert "did not answer" in late.value.message
    with pytest.raises(Unavailable):
        link.contact_for(_person(), [])  # a create as well (its ALREADY_EXISTS path aside)


def test_an_unreachable_contacts_service_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALES_CONTACTS_CALL_SECONDS", str(DEADLINE))
    link = ContactsLink(_nobody_listening())
    with pytest.raises(Unavailable):
        link.get_contact("c-1", [])


def test_converting_a_lead_while_contacts_answers_late_is_unavailable_to_the_caller(
    late_contacts: str, sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTACTS_GRPC_ADDR", late_contacts)  # read when the link first calls
    lead = sales.leads.CreateLead(
        leads_pb2.CreateLeadRequest(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        metadata=REP,
    )
    with pytest.raises(grpc.RpcError) as refused:
        sales.leads.ConvertLead(leads_pb2.ConvertLeadRequest(id=lead.id), metadata=REP, timeout=10)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    still = sales.leads.GetLead(leads_pb2.GetLeadRequest(id=lead.id), metadata=REP)
    assert still.status != leads_pb2.LEAD_STATUS_CONVERTED  # nothing was done
