"""What the merge tests share: signed callers, a client for every service a merge touches (over a real
gRPC server of the whole contacts definition), and what they look at in the database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from contacts.main import DEFINITION
from contacts.privacy.erasure import child_tables, contact_column
from contacts.store import Base, messaging
from crm.contacts.v1 import (
    companies_pb2,
    companies_pb2_grpc,
    consent_pb2,
    consent_pb2_grpc,
    contacts_pb2,
    contacts_pb2_grpc,
    interactions_pb2,
    interactions_pb2_grpc,
    merge_pb2,
    merge_pb2_grpc,
)
from crm_platform.grpc_server import GrpcServer
from crm_platform.service import Runtime
from crm_platform.testing.callers import caller_metadata

ADMIN = caller_metadata("admin", "admin")
REP_A = caller_metadata("rep-a", "sales_rep", team_ids=("team-a",))
READER = caller_metadata("reader", "read_only")


class Calls:
    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.contacts = contacts_pb2_grpc.ContactsServiceStub(channel)
        self.merges = merge_pb2_grpc.MergeServiceStub(channel)
        self.companies = companies_pb2_grpc.CompaniesServiceStub(channel)
        self.interactions = interactions_pb2_grpc.InteractionsServiceStub(channel)
        self.consents = consent_pb2_grpc.ConsentServiceStub(channel)

    def person(self, md: Any = ADMIN, **fields: Any) -> contacts_pb2.Contact:
        fields.setdefault("first_name", "Ada")
        fields.setdefault("last_name", "Lovelace")
        fields.setdefault("email", f"{uuid.uuid4().hex[:10]}@example.com")
        return self.contacts.CreateContact(
            contacts_pb2.CreateContactRequest(**fields), metadata=md, timeout=10
        )

    def merge(self, survivor: str, *sources: str, md: Any = ADMIN, **request: Any) -> Any:
        return self.merges.MergeContacts(
            merge_pb2.MergeContactsRequest(id=survivor, source_ids=list(sources), **request),
            metadata=md,
            timeout=20,
        )

    def interaction(self, contact_id: str, subject: str) -> interactions_pb2.Interaction:
        return self.interactions.CreateInteraction(
            interactions_pb2.CreateInteractionRequest(
                contact_id=contact_id, kind=interactions_pb2.INTERACTION_KIND_CALL, subject=subject
            ),
            metadata=ADMIN,
            timeout=10,
        )

    def consent(self, contact_id: str, timeout: float = 10) -> consent_pb2.ConsentRecord:
        return self.consents.RecordConsent(
            consent_pb2.RecordConsentRequest(
                contact_id=contact_id,
                channel=consent_pb2.CONSENT_CHANNEL_EMAIL,
                purpose=consent_pb2.CONSENT_PURPOSE_MARKETING,
                status=consent_pb2.CONSENT_STATUS_GRANTED,
                source="web_form",
            ),
            metadata=ADMIN,
            timeout=timeout,
        )

    def hide_survivor(self, survivor_id: str) -> None:
        """The survivor goes to the admin (no team), out of REP_A's sight; its tombstones stay REP_A's."""
        self.contacts.UpdateContact(
            contacts_pb2.UpdateContactRequest(
                contact=contacts_pb2.Contact(id=survivor_id, owner_id="admin", team_id=""),
                update_mask={"paths": ["owner_id", "team_id"]},
            ),
            metadata=ADMIN,
        )

    def company(self, name: str, **fields: Any) -> companies_pb2.Company:
        return self.companies.CreateCompany(
            companies_pb2.CreateCompanyRequest(name=name, **fields), metadata=ADMIN, timeout=10
        )

    def link(self, company_id: str, contact_id: str, primary: bool = False) -> None:
        self.companies.AddCompanyPerson(
            companies_pb2.AddCompanyPersonRequest(
                company_id=company_id, contact_id=contact_id, is_primary=primary
            ),
            metadata=ADMIN,
            timeout=10,
        )


@contextmanager
def serving(runtime: Runtime) -> Iterator[Calls]:
    """A real gRPC server of the contacts service on `runtime`, and Calls to it."""
    server = GrpcServer(
        "contacts", "127.0.0.1:0", lambda s: DEFINITION.register_grpc(s, runtime), max_workers=16
    ).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield Calls(channel)
    finally:
        channel.close()
        server.stop(0)


def refused(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def dump(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with runtime.engine.connect() as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def under(runtime: Runtime, contact_ids: list[str]) -> dict[str, int]:
    """How many rows of each table under a contact (erasure's list: contact_id or a foreign key) belong
    to one of `contact_ids`."""
    with runtime.engine.connect() as conn:
        return {
            table.name: len(conn.execute(select(table).where(contact_column(table).in_(contact_ids))).all())
            for table in child_tables()
        }


def events_of(runtime: Runtime, event_type: str) -> list[tuple[str, dict[str, Any]]]:
    outbox = messaging.outbox
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.aggregate_id, outbox.c.payload).where(outbox.c.routing_key == event_type)
        ).all()
    return [(row.aggregate_id, json.loads(row.payload)) for row in rows]
