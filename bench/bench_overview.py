"""CPU per call of contacts' GetContactOverview (the customer-360's contacts section) against GetContact,
in-process: a real contacts gRPC server and its client in this process, `time.process_time` over N calls
of each, alternating rounds so machine load hits both alike.

    .venv/bin/python bench/bench_overview.py [--calls 3000] [--database-url URL]

The contact is a sales rep's (scoped reads), linked to two companies (one of another team, which the
rep may not see), with a consent and three interactions; asked as that rep and as an admin.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import grpc

from contacts.main import DEFINITION
from crm.contacts.v1 import (
    companies_pb2,
    companies_pb2_grpc,
    consent_pb2,
    consent_pb2_grpc,
    contacts_pb2,
    contacts_pb2_grpc,
    interactions_pb2,
    interactions_pb2_grpc,
    overview_pb2,
    overview_pb2_grpc,
)
from crm_platform.grpc_server import GrpcServer
from crm_platform.service import open_runtime
from crm_platform.testing.callers import caller_metadata

ADMIN = caller_metadata("admin", "admin")
REP = caller_metadata("rep-a", "sales_rep", team_ids=("team-a",))
ROUNDS = 3


def _seed(channel: grpc.Channel) -> str:
    contact = contacts_pb2_grpc.ContactsServiceStub(channel).CreateContact(
        contacts_pb2.CreateContactRequest(
            first_name="Ada", last_name="Lovelace", email=f"bench-{time.time_ns()}@example.com"
        ),
        metadata=REP,
    )
    companies = companies_pb2_grpc.CompaniesServiceStub(channel)
    for name, team in (("Ours", "team-a"), ("Theirs", "team-b")):
        company = companies.CreateCompany(
            companies_pb2.CreateCompanyRequest(name=f"{name} {time.time_ns()}", team_id=team), metadata=ADMIN
        )
        companies.AddCompanyPerson(
            companies_pb2.AddCompanyPersonRequest(company_id=company.id, contact_id=contact.id),
            metadata=ADMIN,
        )
    consent_pb2_grpc.ConsentServiceStub(channel).RecordConsent(
        consent_pb2.RecordConsentRequest(
            contact_id=contact.id,
            channel=consent_pb2.CONSENT_CHANNEL_EMAIL,
            purpose=consent_pb2.CONSENT_PURPOSE_MARKETING,
            status=consent_pb2.CONSENT_STATUS_GRANTED,
            source="web_form",
        ),
        metadata=REP,
    )
    interactions = interactions_pb2_grpc.InteractionsServiceStub(channel)
    for n in range(3):
        interactions.CreateInteraction(
            interactions_pb2.CreateInteractionRequest(
                contact_id=contact.id, kind=interactions_pb2.INTERACTION_KIND_CALL, subject=f"call {n}"
            ),
            metadata=REP,
        )
    return contact.id


def _cpu_us(call: Callable[[], Any], calls: int) -> float:
    for _ in range(50):  # warm: statements built, connections pooled
        call()
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) * 1e6 / calls


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'contacts.db'}"
        runtime = open_runtime(DEFINITION, url)
        server = GrpcServer("contacts", "127.0.0.1:0", lambda s: DEFINITION.register_grpc(s, runtime)).start()
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        try:
            contact_id = _seed(channel)
            get = contacts_pb2_grpc.ContactsServiceStub(channel).GetContact
            overview = overview_pb2_grpc.ContactOverviewServiceStub(channel).GetContactOverview
            for who, md in (("sales rep", REP), ("admin", ADMIN)):
                shown = overview(overview_pb2.GetContactOverviewRequest(id=contact_id), metadata=md)
                figures: dict[str, list[float]] = {"GetContact": [], "GetContactOverview": []}
                for _ in range(ROUNDS):
                    figures["GetContact"].append(
                        _cpu_us(
                            lambda md=md: get(contacts_pb2.GetContactRequest(id=contact_id), metadata=md),
                            args.calls,
                        )
                    )
                    figures["GetContactOverview"].append(
                        _cpu_us(
                            lambda md=md: overview(
                                overview_pb2.GetContactOverviewRequest(id=contact_id), metadata=md
                            ),
                            args.calls,
                        )
                    )
                best = {name: min(values) for name, values in figures.items()}
                ratio = best["GetContactOverview"] / best["GetContact"]
                print(
                    f"{url.split(':')[0].split('+')[0]:10} {who:9} ({len(shown.companies)} companies, "
                    f"{len(shown.timeline)} entries shown): GetContact {best['GetContact']:.0f} µs, "
                    f"GetContactOverview {best['GetContactOverview']:.0f} µs CPU per call "
                    f"({ratio:.2f}x; best of {ROUNDS} x {args.calls})"
                )
        finally:
            channel.close()
            server.stop(0)
            runtime.engine.dispose()


if __name__ == "__main__":
    main()
