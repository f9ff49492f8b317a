"""Writes under a record racing a merge of it, with real threads against a real gRPC server (SQLite, then
PostgreSQL), many rounds: a new interaction, a consent, a company link, an email added by PATCH, an
event's timeline entry (the consumer's handler, in its own transaction) under a contact while it is
merged away; a person linked to, and a subsidiary created under, a company while it is merged away. In
every round no row under a tombstone remains, every write that succeeded is found on the survivor, and
every write that did not answered MERGED naming the survivor (or ABORTED, having changed nothing). Then:
how writes and reads addressed to a merged record answer."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from contacts.companies.store import Company, CompanyPersonLink
from contacts.consent.store import ConsentRecord
from contacts.interactions.store import Interaction
from contacts.privacy.erasure import child_tables
from contacts.store import Contact
from contacts.timeline import events as timeline
from contacts.timeline.store import TimelineEntry
from crm.contacts.v1 import (
    companies_pb2,
    consent_pb2,
    contacts_pb2,
    interactions_pb2,
    merge_pb2,
    privacy_pb2,
    privacy_pb2_grpc,
)
from crm_platform.db import transaction
from crm_platform.errors import details_from
from crm_platform.service import Runtime

from .merging import ADMIN, REP_A, Calls, refused, serving, under

ROUNDS = 12


@pytest.fixture
def calls(runtime: Runtime) -> Iterator[Calls]:
    with serving(runtime) as calls:
        yield calls


REFUSED = {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED}


def race(*jobs: Callable[[], Any]) -> list[Any]:
    """Runs the jobs at once, each in its own thread after a common start and a random few ms; each
    one's result, or the RpcError it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        time.sleep(random.uniform(0, 0.006))
        try:
            results[index] = job()
        except grpc.RpcError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def assert_refused_toward(error: grpc.RpcError, survivor_id: str) -> None:
    """A write that lost the race to a merge: MERGED naming the survivor, or ABORTED (a lock wait that
    timed out), never anything else."""
    assert error.code() in REFUSED, (error.code(), error.details())
    if error.code() is grpc.StatusCode.FAILED_PRECONDITION:
        details = details_from(error)
        assert (details.reason, details.resource_name) == ("MERGED", survivor_id), error.details()
        assert dict(details.metadata or {}) == {"merged_into": survivor_id}


def count(runtime: Runtime, model: Any, *where: Any) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def notification_entry(runtime: Runtime, contact_id: str, event_id: str) -> str:
    """What the contacts worker does with a `notification_sent` naming `contact_id`, in its own
    transaction: the entry's contact."""
    data = {
        "notification_id": event_id,
        "contact_id": contact_id,
        "title": "Welcome",
        "body": "hello",
        "kind": "welcome",
        "channel": "email",
    }
    with transaction(runtime.sessions) as session:
        entry = timeline.apply(session, "notifications", "notification_sent", data, event_id=event_id)
        assert entry is not None
        return entry.contact_id


def test_child_writes_racing_a_contact_merge_end_on_the_survivor_or_are_refused(
    calls: Calls, runtime: Runtime
) -> None:
    acme = calls.company("Acme")
    refusals: dict[str, int] = {}
    for round_ in range(ROUNDS):
        survivor = calls.person(first_name=f"S{round_}")
        loser = calls.person(first_name=f"L{round_}")
        subject, event_id = f"race {round_} {uuid.uuid4().hex[:6]}", str(uuid.uuid4())
        extra_email = f"extra-{uuid.uuid4().hex[:8]}@example.com"

        def add_email(loser: contacts_pb2.Contact = loser, extra_email: str = extra_email) -> Any:
            emails = [contacts_pb2.ContactEmail(address=a) for a in (loser.email, extra_email)]
            partial = contacts_pb2.Contact(id=loser.id, emails=emails)
            return calls.contacts.UpdateContact(
                contacts_pb2.UpdateContactRequest(contact=partial, update_mask={"paths": ["emails"]}),
                metadata=ADMIN,
                timeout=20,
            )

        def link(loser_id: str = loser.id) -> companies_pb2.CompanyPerson:
            return calls.companies.AddCompanyPerson(
                companies_pb2.AddCompanyPersonRequest(company_id=acme.id, contact_id=loser_id),
                metadata=ADMIN,
                timeout=20,
            )

        merge, interaction, consented, linked, emailed, entry_contact = race(
            lambda s=survivor.id, lo=loser.id: calls.merge(s, lo),
            lambda lo=loser.id, subject=subject: calls.interaction(lo, subject),
            lambda lo=loser.id: calls.consent(lo, timeout=20),
            link,
            add_email,
            lambda lo=loser.id, e=event_id: notification_entry(runtime, lo, e),
        )
        assert not isinstance(merge, grpc.RpcError), (merge.code(), merge.details())
        with runtime.engine.connect() as conn:
            tombstone = conn.execute(select(Contact).where(Contact.id == loser.id)).one()
            merged = conn.execute(select(Contact).where(Contact.id == survivor.id)).one()
        assert tombstone.merged_into == survivor.id
        # Nothing under the tombstone, in any table under contacts.
        assert under(runtime, [loser.id]) == {table.name: 0 for table in child_tables()}
        # Each write that answered OK is on the survivor; each other one said why and left nothing.
        answers = {"interaction": interaction, "consent": consented, "link": linked, "email": emailed}
        for name, answer in answers.items():
            if isinstance(answer, grpc.RpcError):
                assert_refused_toward(answer, survivor.id)
                refusals[name] = refusals.get(name, 0) + 1
        written = {name for name, answer in answers.items() if not isinstance(answer, grpc.RpcError)}
        on_survivor = Interaction.contact_id == survivor.id
        assert count(runtime, Interaction, Interaction.subject == subject) == int("interaction" in written)
        if "interaction" in written:
            assert count(runtime, Interaction, Interaction.id == interaction.id, on_survivor) == 1
        consents = count(runtime, ConsentRecord, ConsentRecord.contact_id == survivor.id)
        assert consents == int("consent" in written)
        if "consent" in written:
            assert count(runtime, ConsentRecord, ConsentRecord.id == consented.id) == 1
        links = count(
            runtime,
            CompanyPersonLink,
            CompanyPersonLink.company_id == acme.id,
            CompanyPersonLink.contact_id == survivor.id,
        )
        assert links == int("link" in written)
        addresses = [entry["address"] for entry in merged.emails or []]
        assert (extra_email in addresses) == ("email" in written), addresses
        # The worker's entry is never refused: it joins the survivor's timeline whenever it comes.
        assert entry_contact in (loser.id, survivor.id)
        at_survivor = (TimelineEntry.event_id == event_id, TimelineEntry.contact_id == survivor.id)
        assert count(runtime, TimelineEntry, *at_survivor) == 1
    # The race was a race: some writes got in before the merge, and some after it.
    assert sum(refusals.values()) > 0 and sum(refusals.values()) < 4 * ROUNDS, refusals


def test_people_and_subsidiaries_racing_a_company_merge_end_on_the_survivor_or_are_refused(
    calls: Calls, runtime: Runtime
) -> None:
    refusals = 0
    for round_ in range(ROUNDS):
        survivor, loser = calls.company(f"Survivor {round_}"), calls.company(f"Loser {round_}")
        person = calls.person()
        merge, linked, subsidiary = race(
            lambda s=survivor.id, lo=loser.id: calls.merges.MergeCompanies(
                merge_pb2.MergeCompaniesRequest(id=s, source_ids=[lo]), metadata=ADMIN, timeout=20
            ),
            lambda lo=loser.id, p=person.id: calls.companies.AddCompanyPerson(
                companies_pb2.AddCompanyPersonRequest(company_id=lo, contact_id=p),
                metadata=ADMIN,
                timeout=20,
            ),
            lambda lo=loser.id, r=round_: calls.company(f"Subsidiary {r}", parent_company_id=lo),
        )
        assert not isinstance(merge, grpc.RpcError), (merge.code(), merge.details())
        assert count(runtime, CompanyPersonLink, CompanyPersonLink.company_id == loser.id) == 0
        assert count(runtime, Company, Company.parent_company_id == loser.id) == 0
        if isinstance(linked, grpc.RpcError):
            assert_refused_toward(linked, survivor.id)
            refusals += 1
        at_survivor = (CompanyPersonLink.company_id == survivor.id, CompanyPersonLink.contact_id == person.id)
        assert count(runtime, CompanyPersonLink, *at_survivor) == int(not isinstance(linked, grpc.RpcError))
        if isinstance(subsidiary, grpc.RpcError):
            # Its parent read archived once the merge was in: a bad parent, and nothing written.
            assert subsidiary.code() in {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ABORTED}
            assert count(runtime, Company, Company.name == f"Subsidiary {round_}") == 0
            refusals += 1
        else:
            assert count(
                runtime, Company, Company.id == subsidiary.id, Company.parent_company_id == survivor.id
            )
    assert 0 < refusals < 2 * ROUNDS


def test_a_contacts_merge_and_a_companies_merge_meeting_on_links_never_fail_or_duplicate_one(
    calls: Calls, runtime: Runtime
) -> None:
    """Each kind of merge locks only its own records, and both re-point company links: a person merge
    folding links by company and a company merge folding them by person, at once, on the same links."""
    for round_ in range(ROUNDS):
        survivor, loser = calls.company(f"S{round_}"), calls.company(f"L{round_}")
        kept, gone = calls.person(), calls.person()
        for company in (survivor, loser):
            for person in (kept, gone):
                calls.link(company.id, person.id, primary=person is gone)
        companies, people = race(
            lambda s=survivor.id, lo=loser.id: calls.merges.MergeCompanies(
                merge_pb2.MergeCompaniesRequest(id=s, source_ids=[lo]), metadata=ADMIN, timeout=20
            ),
            lambda k=kept.id, g=gone.id: calls.merge(k, g),
        )
        for answer in (companies, people):
            if isinstance(answer, grpc.RpcError):  # a lock wait that timed out: nothing changed
                assert answer.code() is grpc.StatusCode.ABORTED, (answer.code(), answer.details())
        company_ids = [survivor.id, loser.id]
        with runtime.engine.connect() as conn:
            links = conn.execute(
                select(
                    CompanyPersonLink.company_id, CompanyPersonLink.contact_id, CompanyPersonLink.is_primary
                ).where(CompanyPersonLink.company_id.in_(company_ids))
            ).all()
            merged = dict(
                conn.execute(
                    select(Contact.id, Contact.merged_into).where(Contact.id.in_([kept.id, gone.id]))
                ).all()
            )
            merged_companies = dict(
                conn.execute(select(Company.id, Company.merged_into).where(Company.id.in_(company_ids))).all()
            )
        pairs = [(company, person) for company, person, _ in links]
        assert len(pairs) == len(set(pairs)), links  # one link per company and person
        assert not any(merged[person] for _, person in pairs), links  # none on a merged person
        assert not any(merged_companies[company] for company, _ in pairs), links  # nor a merged company
        for company in {company for company, _ in pairs}:
            assert sum(primary for c, _, primary in links if c == company) <= 1, links


def test_writes_to_a_merged_contact_are_refused_naming_the_survivor_and_reads_move(
    calls: Calls, runtime: Runtime
) -> None:
    survivor, loser = calls.person(), calls.person()
    interaction = calls.interaction(loser.id, "before")
    calls.merge(survivor.id, loser.id)
    writes = {
        "interaction": lambda: calls.interaction(loser.id, "after"),
        "consent": lambda: calls.consent(loser.id),
        "link": lambda: calls.link(calls.company("Later").id, loser.id),
        "update": lambda: calls.contacts.UpdateContact(
            contacts_pb2.UpdateContactRequest(
                contact=contacts_pb2.Contact(id=loser.id, job_title="Engineer"),
                update_mask={"paths": ["job_title"]},
            ),
            metadata=ADMIN,
        ),
        "interaction update": lambda: calls.interactions.UpdateInteraction(
            interactions_pb2.UpdateInteractionRequest(
                interaction=interactions_pb2.Interaction(id=interaction.id, contact_id=loser.id, subject="x"),
                update_mask={"paths": ["subject"]},
            ),
            metadata=ADMIN,
        ),
        "delete": lambda: calls.contacts.DeleteContact(
            contacts_pb2.DeleteContactRequest(id=loser.id), metadata=ADMIN
        ),
        "erase": lambda: privacy_pb2_grpc.PrivacyServiceStub(calls.channel).EraseContact(
            privacy_pb2.EraseContactRequest(id=loser.id), metadata=ADMIN
        ),
    }
    before = under(runtime, [survivor.id])
    for name, write in writes.items():
        error = refused(write)
        assert error.code() is grpc.StatusCode.FAILED_PRECONDITION, (name, error.details())
        assert_refused_toward(error, survivor.id)
        assert survivor.id in error.details()
    assert under(runtime, [loser.id]) == {table.name: 0 for table in child_tables()}
    assert under(runtime, [survivor.id]) == before
    # Reads under the merged contact move to the survivor (REST 308), as GetContact does.
    for read in (
        lambda: calls.interactions.ListInteractions(
            interactions_pb2.ListInteractionsRequest(contact_id=loser.id), metadata=ADMIN
        ),
        lambda: calls.consents.ListConsents(
            consent_pb2.ListConsentsRequest(contact_id=loser.id), metadata=ADMIN
        ),
    ):
        details = details_from(refused(read))
        assert (details.reason, details.resource_name) == ("MOVED", survivor.id)
    # A caller who may read the tombstone but not the survivor is told it is not found, as GET tells.
    mine, also_mine = calls.person(md=REP_A), calls.person(md=REP_A)
    calls.merge(mine.id, also_mine.id, md=REP_A)
    calls.hide_survivor(mine.id)
    hidden = refused(
        lambda: calls.interactions.CreateInteraction(
            interactions_pb2.CreateInteractionRequest(
                contact_id=also_mine.id, kind=interactions_pb2.INTERACTION_KIND_NOTE, subject="x"
            ),
            metadata=REP_A,
        )
    )
    assert hidden.code() is grpc.StatusCode.NOT_FOUND and details_from(hidden).reason == "NOT_FOUND"


def test_two_companies_put_under_each_other_at_once_never_make_a_cycle(
    calls: Calls, runtime: Runtime
) -> None:
    """A under B while B goes under A (and a third company closing a ring of three): each update walks
    the chain above its new parent, share-locked, so the later one sees the other's parent or is ABORTED."""

    def put_under(company_id: str, parent_id: str) -> Any:
        partial = companies_pb2.Company(id=company_id, parent_company_id=parent_id)
        return calls.companies.UpdateCompany(
            companies_pb2.UpdateCompanyRequest(company=partial, update_mask={"paths": ["parent_company_id"]}),
            metadata=ADMIN,
            timeout=20,
        )

    written = 0
    for round_ in range(ROUNDS):
        ring = [calls.company(f"Ring {round_}.{i}").id for i in range(2 + round_ % 2)]
        pairs = list(
            zip(ring, [*ring[1:], ring[0]], strict=True)
        )  # each under the next, the last under the first
        answers = race(*(lambda c=c, p=p: put_under(c, p) for c, p in pairs))
        for answer in answers:
            if isinstance(answer, grpc.RpcError):
                assert answer.code() in {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ABORTED}, (
                    answer.code(),
                    answer.details(),
                )
        written += sum(not isinstance(answer, grpc.RpcError) for answer in answers)
        with runtime.engine.connect() as conn:
            parents = dict(
                conn.execute(select(Company.id, Company.parent_company_id).where(Company.id.in_(ring))).all()
            )
        assert any(parents[c] is None for c in ring), parents  # the ring is never closed
    assert written > 0


@pytest.mark.parametrize("depth", [1, 2])
def test_a_company_merge_never_makes_a_cycle_of_parents(calls: Calls, runtime: Runtime, depth: int) -> None:
    """The survivor sits below one of the source's subsidiaries: once those are the survivor's, its parent
    would be its own descendant, so it loses its parent."""
    source = calls.company("Holding")
    parent = source
    for level in range(depth):
        parent = calls.company(f"Level {level}", parent_company_id=parent.id)
    survivor = calls.company("Survivor", parent_company_id=parent.id)
    calls.merges.MergeCompanies(
        merge_pb2.MergeCompaniesRequest(id=survivor.id, source_ids=[source.id]), metadata=ADMIN, timeout=20
    )
    with runtime.engine.connect() as conn:
        parents = dict(conn.execute(select(Company.id, Company.parent_company_id)).all())
    assert parents[survivor.id] is None
    for start in parents:  # every chain ends
        seen, current = set(), start
        while current is not None:
            assert current not in seen, f"a cycle through {current}"
            seen.add(current)
            current = parents[current]
