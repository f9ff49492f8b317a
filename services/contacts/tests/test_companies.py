"""Companies served by the contacts service over real gRPC with signed caller contexts (SQLite, then
PostgreSQL): standard methods, the domain's rules, the domain unique per book, the parent company,
scope, events; and the people linked to companies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import select

from contacts import api as contacts_api
from contacts.companies import api as companies_api
from contacts.store import messaging
from crm.contacts.v1 import companies_pb2, companies_pb2_grpc, contacts_pb2, contacts_pb2_grpc
from crm_platform.access import CallerContext, CallerContextSigner, CallerContextVerifier, builtin_rights
from crm_platform.access.context import CallerContextCheck
from crm_platform.errors import details_from
from crm_platform.grpc_server import GrpcServer
from crm_platform.service import Runtime


def _caller(user: str, role: str, teams: tuple[str, ...] = (), partner: str | None = None) -> CallerContext:
    return CallerContext(
        subject=user,
        roles=(role,),
        team_ids=teams,
        primary_team_id=teams[0] if teams else None,
        partner_account_id=partner,
        rights=builtin_rights(role),
    )


ADMIN = _caller("admin", "admin")
REP_A = _caller("rep-a", "sales_rep", ("team-a",))
REP_A2 = _caller("rep-a2", "sales_rep", ("team-a",))
REP_B = _caller("rep-b", "sales_rep", ("team-b",))
READER = _caller("reader", "read_only")
PARTNER_1 = _caller("partner-1-user", "partner", (), "p1")
PARTNER_2 = _caller("partner-2-user", "partner", (), "p2")


class As:
    """One caller's view of the companies and contacts services."""

    def __init__(self, signer: CallerContextSigner, channel: grpc.Channel, caller: CallerContext) -> None:
        self.companies = companies_pb2_grpc.CompaniesServiceStub(channel)
        self.contacts = contacts_pb2_grpc.ContactsServiceStub(channel)
        self.md = [("x-crm-caller", signer.sign(caller))]

    def create(self, name: str = "Acme", **fields: Any) -> companies_pb2.Company:
        request = companies_pb2.CreateCompanyRequest(name=name, **fields)
        return self.companies.CreateCompany(request, metadata=self.md, timeout=10)

    def get(self, company_id: str) -> companies_pb2.Company:
        return self.companies.GetCompany(
            companies_pb2.GetCompanyRequest(id=company_id), metadata=self.md, timeout=10
        )

    def update(self, company_id: str, etag: str = "", **fields: Any) -> companies_pb2.Company:
        request = companies_pb2.UpdateCompanyRequest(
            company=companies_pb2.Company(id=company_id, etag=etag, **fields)
        )
        request.update_mask.paths.extend(fields)
        return self.companies.UpdateCompany(request, metadata=self.md, timeout=10)

    def delete(self, company_id: str, etag: str = "") -> None:
        request = companies_pb2.DeleteCompanyRequest(id=company_id, etag=etag)
        self.companies.DeleteCompany(request, metadata=self.md, timeout=10)

    def history(self, company_id: str) -> Any:
        request = companies_pb2.ListCompanyHistoryRequest(id=company_id)
        return self.companies.ListCompanyHistory(request, metadata=self.md, timeout=10)

    def ids(self, **request: Any) -> list[str]:
        found, cursor = [], ""
        while True:
            page = self.companies.ListCompanies(
                companies_pb2.ListCompaniesRequest(cursor=cursor, limit=2, **request),
                metadata=self.md,
                timeout=10,
            )
            found += [c.id for c in page.items]
            if not page.next_cursor:
                return found
            cursor = page.next_cursor

    def contact(self, email: str, **extra: str) -> contacts_pb2.Contact:
        request = contacts_pb2.CreateContactRequest(
            first_name="Ada", last_name="Lovelace", email=email, **extra
        )
        return self.contacts.CreateContact(request, metadata=self.md, timeout=10)

    def link(self, company_id: str, contact_id: str, **fields: Any) -> companies_pb2.CompanyPerson:
        request = companies_pb2.AddCompanyPersonRequest(
            company_id=company_id, contact_id=contact_id, **fields
        )
        return self.companies.AddCompanyPerson(request, metadata=self.md, timeout=10)

    def unlink(self, company_id: str, contact_id: str) -> None:
        request = companies_pb2.RemoveCompanyPersonRequest(company_id=company_id, contact_id=contact_id)
        self.companies.RemoveCompanyPerson(request, metadata=self.md, timeout=10)

    def people(self, company_id: str, limit: int = 2) -> list[companies_pb2.CompanyPerson]:
        found, cursor = [], ""
        while True:
            request = companies_pb2.ListCompanyPeopleRequest(
                company_id=company_id, limit=limit, cursor=cursor
            )
            page = self.companies.ListCompanyPeople(request, metadata=self.md, timeout=10)
            found += list(page.items)
            if not page.next_cursor:
                return found
            cursor = page.next_cursor

    def companies_of(self, contact_id: str, limit: int = 2) -> list[companies_pb2.CompanyPerson]:
        found, cursor = [], ""
        while True:
            request = companies_pb2.ListContactCompaniesRequest(
                contact_id=contact_id, limit=limit, cursor=cursor
            )
            page = self.companies.ListContactCompanies(request, metadata=self.md, timeout=10)
            found += list(page.items)
            if not page.next_cursor:
                return found
            cursor = page.next_cursor


@pytest.fixture
def who(runtime: Runtime) -> Iterator[Any]:
    """`who(CALLER)`: that caller's client of a server running contacts and companies, as main.py does."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    check = CallerContextCheck(CallerContextVerifier({"test": public}))

    def register(server: grpc.Server) -> list[str]:
        return [*contacts_api.register(server, runtime), *companies_api.register(server, runtime)]

    server = GrpcServer("contacts", "127.0.0.1:0", register, caller_check=check).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    signer = CallerContextSigner(private, "test")
    yield lambda caller: As(signer, channel, caller)
    channel.close()
    server.stop(0)


def _error(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def _code(call: Any) -> grpc.StatusCode:
    return _error(call).code()


def _fields(error: grpc.RpcError) -> dict[str, str]:
    return dict(details_from(error).field_violations)


def _outbox(runtime: Runtime) -> list[tuple[str, dict[str, Any]]]:
    outbox = messaging.outbox
    with runtime.engine.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.created_at)).all()
    return [(row.routing_key, json.loads(row.payload)) for row in rows]


# --- the standard methods --------------------------------------------------------------------------


def test_a_company_is_created_normalised_read_updated_archived_and_has_history(who, runtime) -> None:
    rep = who(REP_A)
    company = rep.create(
        "  Acme Corp ",
        domain="WWW.Acme.COM.",
        industry="Manufacturing",
        size=companies_pb2.COMPANY_SIZE_51_200,
        address=companies_pb2.Address(
            street="1 Main St", city="Springfield", postal_code="ab1 2cd", country="us"
        ),
        website="https://acme.com",
        phone="+1 555 0100",
    )
    assert company.name == "Acme Corp" and company.domain == "acme.com"
    assert company.address.country == "US" and company.address.postal_code == "AB1 2CD"
    assert company.size == companies_pb2.COMPANY_SIZE_51_200
    assert (company.owner_id, company.team_id, company.partner_account_id) == ("rep-a", "team-a", "")
    assert company.etag and not company.HasField("archived_at")
    assert rep.get(company.id) == company

    changed = rep.update(company.id, etag=company.etag, description="Makes everything", domain="acme.org")
    assert changed.description == "Makes everything" and changed.domain == "acme.org"
    assert changed.etag != company.etag and changed.name == "Acme Corp"
    stale = _error(lambda: rep.update(company.id, etag=company.etag, industry="Retail"))
    assert stale.code() == grpc.StatusCode.FAILED_PRECONDITION
    # A partial address path changes that field only.
    moved = rep.update(company.id, address=companies_pb2.Address(city="Shelbyville"))
    assert moved.address.city == "Shelbyville" and moved.address.street == ""  # `address` replaces all
    request = companies_pb2.UpdateCompanyRequest(
        company=companies_pb2.Company(id=company.id, address=companies_pb2.Address(street="2 Elm St"))
    )
    request.update_mask.paths.append("address.street")
    street = rep.companies.UpdateCompany(request, metadata=rep.md, timeout=10)
    assert (street.address.street, street.address.city) == ("2 Elm St", "Shelbyville")

    rep.delete(company.id)
    rep.delete(company.id)  # archiving twice changes nothing
    assert rep.get(company.id).HasField("archived_at")
    assert company.id not in rep.ids()

    entries = rep.history(company.id).items
    assert (entries[0].action, entries[-1].action) == (3, 1)  # deleted ... created
    assert {c.field for c in entries[-2].changes} == {"description", "domain"}
    assert all(e.actor_id == "rep-a" for e in entries)

    events = [(kind, body) for kind, body in _outbox(runtime) if kind.startswith("company_")]
    assert [kind for kind, _ in events] == [
        "company_created",
        "company_updated",
        "company_updated",
        "company_updated",
        "company_archived",
    ]
    created = events[0][1]
    assert created["company_id"] == company.id and created["domain"] == "acme.com"
    assert created["size"] == "51_200" and created["actor_id"] == "rep-a" and created["owner_id"] == "rep-a"
    assert sorted(events[1][1]["changed_fields"]) == ["description", "domain"]
    assert events[1][1]["actor_id"] == "rep-a"
    assert events[-1][1]["actor_id"] == "rep-a"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "A\nB"}, "name"),
        ({"domain": "not a domain"}, "domain"),
        ({"domain": "localhost"}, "domain"),
        ({"domain": "https://acme.com"}, "domain"),
        ({"website": "acme.com"}, "website"),
        ({"website": "ftp://acme.com"}, "website"),
        ({"phone": "call me"}, "phone"),
        ({"address": companies_pb2.Address(country="XX")}, "address.country"),
        ({"address": companies_pb2.Address(country="USA")}, "address.country"),
        ({"size": 42}, "size"),
        ({"parent_company_id": "no-such-company"}, "parent_company_id"),
    ],
)
def test_bad_input_is_invalid_argument_naming_the_field(who, fields: dict[str, Any], named: str) -> None:
    rep = who(REP_A)
    body = {"name": "Acme", **fields}
    error = _error(lambda: rep.create(**body))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert named in _fields(error), _fields(error)


def test_bad_updates_are_invalid_argument_naming_the_field(who) -> None:
    rep = who(REP_A)
    company = rep.create("Acme")
    for fields, named in (
        ({"name": ""}, "company.name"),
        ({"domain": "no"}, "company.domain"),
        ({"address": companies_pb2.Address(country="ZZ")}, "company.address.country"),
        ({"parent_company_id": company.id}, "company.parent_company_id"),
    ):
        error = _error(lambda fields=fields: rep.update(company.id, **fields))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
        assert named in _fields(error), _fields(error)


def test_lists_filter_and_order_over_the_allow_list(who) -> None:
    rep = who(REP_A)
    beta = rep.create("Beta", domain="beta.io", size=companies_pb2.COMPANY_SIZE_1_10, industry="Retail")
    alpha = rep.create("Alpha", domain="alpha.io", address=companies_pb2.Address(country="DE", city="Berlin"))
    gamma = rep.create("Gamma", size=companies_pb2.COMPANY_SIZE_5001_PLUS, parent_company_id=alpha.id)
    assert rep.ids() == [beta.id, alpha.id, gamma.id]
    assert rep.ids(order_by="name desc") == [gamma.id, beta.id, alpha.id]
    assert rep.ids(order_by="domain") == [gamma.id, alpha.id, beta.id]  # no domain first
    assert rep.ids(filter='size = "1_10" OR size = "5001_plus"') == [beta.id, gamma.id]
    assert rep.ids(filter='country = "DE" AND city = "Berlin"') == [alpha.id]
    assert rep.ids(filter=f'parent_company_id = "{alpha.id}"') == [gamma.id]
    assert rep.ids(filter="domain = null") == [gamma.id]
    assert rep.ids(filter='name = "Al*"') == [alpha.id]
    for bad in ({"filter": "website = 1"}, {"filter": 'size = "huge"'}, {"order_by": "phone"}):
        error = _error(lambda bad=bad: rep.ids(**bad))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert set(_fields(error)) & {"filter", "order_by"}


# --- the domain, unique per book ---------------------------------------------------------------------


def test_a_domain_is_unique_per_book_and_a_conflict_names_only_what_you_may_read(who) -> None:
    rep_a, rep_a2, rep_b = who(REP_A), who(REP_A2), who(REP_B)
    partner_1, partner_2 = who(PARTNER_1), who(PARTNER_2)
    theirs = rep_b.create("Acme", domain="acme.com")
    # The same domain in other books: each partner account's is its own.
    assert partner_1.create("Acme P1", domain="acme.com").domain == "acme.com"
    assert partner_2.create("Acme P2", domain="ACME.com").domain == "acme.com"
    error = _error(lambda: partner_1.create("Again", domain="www.acme.com"))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS

    # In the company's book a rep of another team may not read the holder: nothing is named.
    hidden = _error(lambda: rep_a.create("Copy", domain="acme.com"))
    assert hidden.code() == grpc.StatusCode.ALREADY_EXISTS
    assert details_from(hidden).resource_name == "" and theirs.id not in hidden.details()
    readable = _error(lambda: who(ADMIN).create("Copy", domain="acme.com"))
    assert details_from(readable).resource_name == theirs.id
    assert readable.details() == hidden.details() == "a company with domain acme.com already exists"

    # An update to a taken domain, or a move into a book that has it, is refused the same way.
    mine = rep_a.create("Mine", domain="mine.com")
    assert _code(lambda: rep_a.update(mine.id, domain="acme.com")) == grpc.StatusCode.ALREADY_EXISTS
    teammate = rep_a2.create("Teammate", domain="teammate.com")
    assert who(ADMIN).update(teammate.id, domain="").domain == ""
    moved = who(ADMIN).create("Moves", domain="acme.com", partner_account_id="p9")
    assert _code(lambda: who(ADMIN).update(moved.id, partner_account_id="")) == grpc.StatusCode.ALREADY_EXISTS
    # Companies without a domain never collide.
    assert rep_a.create("No domain 1").domain == rep_a.create("No domain 2").domain == ""


# --- the parent company --------------------------------------------------------------------------------


def test_the_parent_must_be_readable_and_never_close_a_cycle(who) -> None:
    rep_a, rep_b, partner_1 = who(REP_A), who(REP_B), who(PARTNER_1)
    group = rep_a.create("Group")
    subsidiary = rep_a.create("Subsidiary", parent_company_id=group.id)
    grandchild = rep_a.create("Grandchild", parent_company_id=subsidiary.id)
    other_team = rep_b.create("Other team")
    p1 = partner_1.create("P1 company")

    for parent in (other_team.id, p1.id, "no-such-id"):
        error = _error(lambda parent=parent: rep_a.create("X", parent_company_id=parent))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        # Out of scope reads exactly like missing.
        assert list(_fields(error)) == ["parent_company_id"]
        assert "Other team" not in error.details() and "P1 company" not in error.details()
    # The partner cannot hang its company under the company's own either.
    assert (
        _code(lambda: partner_1.update(p1.id, parent_company_id=group.id)) == grpc.StatusCode.INVALID_ARGUMENT
    )

    for parent in (group.id, grandchild.id):  # itself at the top, or a grandchild under it: a cycle
        error = _error(lambda parent=parent: rep_a.update(group.id, parent_company_id=parent))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "company.parent_company_id" in _fields(error)
    assert rep_a.update(grandchild.id, parent_company_id=group.id).parent_company_id == group.id
    assert rep_a.update(grandchild.id, parent_company_id="").parent_company_id == ""
    rep_a.delete(group.id)
    error = _error(lambda: rep_a.create("Late", parent_company_id=group.id))
    assert "archived" in _fields(error)["parent_company_id"]


# --- scope -----------------------------------------------------------------------------------------------


def test_scope_holds_for_every_read_and_write(who) -> None:
    admin, rep_a, rep_a2, rep_b, reader = (who(c) for c in (ADMIN, REP_A, REP_A2, REP_B, READER))
    partner_1, partner_2 = who(PARTNER_1), who(PARTNER_2)
    mine, teammate, other = rep_a.create("Mine"), rep_a2.create("Teammate"), rep_b.create("Other")
    p1, p2 = partner_1.create("P1"), partner_2.create("P2")
    assert p1.partner_account_id == "p1" and p1.owner_id == "partner-1-user"

    assert set(rep_a.ids()) == {mine.id, teammate.id}
    assert set(reader.ids()) == set(admin.ids()) == {mine.id, teammate.id, other.id, p1.id, p2.id}
    assert partner_1.ids() == [p1.id]
    assert rep_a.ids(filter='owner_id = "rep-b"') == []
    for call in (
        lambda: rep_a.get(other.id),
        lambda: rep_a.history(other.id),
        lambda: rep_a.update(other.id, description="x"),
        lambda: rep_a.delete(other.id),
        lambda: partner_1.get(p2.id),
        lambda: partner_1.get(mine.id),
    ):
        assert _code(call) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: rep_a.update(teammate.id, description="x")) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: rep_a.delete(teammate.id)) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: rep_a.update(mine.id, owner_id="rep-b")) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: reader.create("R")) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: partner_1.create("X", partner_account_id="p2")) == grpc.StatusCode.INVALID_ARGUMENT
    assert rep_a.update(mine.id, description="ok").description == "ok"


# --- people ------------------------------------------------------------------------------------------------


def test_people_are_linked_with_a_role_and_title_and_listed_both_ways(who) -> None:
    rep = who(REP_A)
    acme, globex = rep.create("Acme"), rep.create("Globex")
    ada, bob, cy = (rep.contact(f"{n}@example.com") for n in ("ada", "bob", "cy"))

    link = rep.link(
        acme.id, ada.id, role=companies_pb2.COMPANY_PERSON_ROLE_DECISION_MAKER, title=" CTO ", is_primary=True
    )
    assert (link.company_id, link.contact_id, link.title, link.is_primary) == (acme.id, ada.id, "CTO", True)
    assert link.role == companies_pb2.COMPANY_PERSON_ROLE_DECISION_MAKER
    assert link.company.id == acme.id and link.contact.email == "ada@example.com"
    rep.link(acme.id, bob.id, title="Buyer")
    rep.link(acme.id, cy.id)
    rep.link(globex.id, ada.id, title="Advisor")  # a person at several companies

    people = rep.people(acme.id)
    assert [p.contact_id for p in people] == [ada.id, bob.id, cy.id]
    assert all(p.contact.id == p.contact_id and p.company.id == acme.id for p in people)
    assert [c.company_id for c in rep.companies_of(ada.id, limit=1)] == [acme.id, globex.id]
    assert rep.companies_of(ada.id)[1].title == "Advisor"

    # Linking again changes the link; a new primary person demotes the previous one.
    again = rep.link(acme.id, bob.id, title="Head of Purchasing", is_primary=True)
    assert again.title == "Head of Purchasing" and again.is_primary
    assert {p.contact_id: p.is_primary for p in rep.people(acme.id)} == {
        ada.id: False,
        bob.id: True,
        cy.id: False,
    }
    assert len(rep.people(acme.id)) == 3

    rep.unlink(acme.id, cy.id)
    assert [p.contact_id for p in rep.people(acme.id)] == [ada.id, bob.id]
    assert _code(lambda: rep.unlink(acme.id, cy.id)) == grpc.StatusCode.NOT_FOUND
    # Archived companies and contacts leave the lists; linking them is refused.
    rep.delete(globex.id)
    assert [c.company_id for c in rep.companies_of(ada.id)] == [acme.id]
    assert _code(lambda: rep.link(globex.id, cy.id)) == grpc.StatusCode.FAILED_PRECONDITION
    assert _code(lambda: rep.link(acme.id, "no-such-contact")) == grpc.StatusCode.NOT_FOUND


def test_links_need_both_readable_and_the_company_updatable(who) -> None:
    rep_a, rep_a2, rep_b, reader = who(REP_A), who(REP_A2), who(REP_B), who(READER)
    partner_1, partner_2 = who(PARTNER_1), who(PARTNER_2)
    mine, teammates = rep_a.create("Mine"), rep_a2.create("Teammate's")
    theirs = rep_b.create("Theirs")
    my_contact, their_contact = rep_a.contact("mine@example.com"), rep_b.contact("theirs@example.com")
    p1_company, p1_contact = partner_1.create("P1"), partner_1.contact("p1@example.com")
    p2_contact = partner_2.contact("p2@example.com")
    rep_b.link(theirs.id, their_contact.id, title="Secret")

    # Out of scope, either side: NOT_FOUND, exactly like a missing record.
    assert _code(lambda: rep_a.link(theirs.id, my_contact.id)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: rep_a.link(mine.id, their_contact.id)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: partner_1.link(p1_company.id, p2_contact.id)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: partner_1.link(p1_company.id, my_contact.id)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: rep_a.unlink(theirs.id, their_contact.id)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: rep_a.people(theirs.id)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: rep_a.companies_of(their_contact.id)) == grpc.StatusCode.NOT_FOUND
    # Readable but not updatable: PERMISSION_DENIED; the reader reads and changes nothing.
    assert _code(lambda: rep_a.link(teammates.id, my_contact.id)) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: reader.link(theirs.id, their_contact.id)) == grpc.StatusCode.PERMISSION_DENIED
    assert [p.title for p in reader.people(theirs.id)] == ["Secret"]
    # The partner links within its own account.
    assert partner_1.link(p1_company.id, p1_contact.id).contact_id == p1_contact.id

    # Lists show only the other side's records the caller may read.
    who(ADMIN).link(mine.id, their_contact.id)
    assert [p.contact_id for p in rep_a.people(mine.id)] == []
    assert {p.contact_id for p in who(ADMIN).people(mine.id)} == {their_contact.id}
    assert [c.company_id for c in rep_b.companies_of(their_contact.id)] == [theirs.id]


def test_a_people_cursor_is_good_only_for_its_own_list(who) -> None:
    rep = who(REP_A)
    acme, globex = rep.create("Acme"), rep.create("Globex")
    for n in range(3):
        contact = rep.contact(f"p{n}@example.com")
        rep.link(acme.id, contact.id)
        rep.link(globex.id, contact.id)
    page = rep.companies.ListCompanyPeople(
        companies_pb2.ListCompanyPeopleRequest(company_id=acme.id, limit=1), metadata=rep.md, timeout=10
    )
    assert page.next_cursor
    request = companies_pb2.ListCompanyPeopleRequest(company_id=globex.id, limit=1, cursor=page.next_cursor)
    error = _error(lambda: rep.companies.ListCompanyPeople(request, metadata=rep.md, timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    other = who(REP_A2)
    request = companies_pb2.ListCompanyPeopleRequest(company_id=acme.id, limit=1, cursor=page.next_cursor)
    error = _error(lambda: other.companies.ListCompanyPeople(request, metadata=other.md, timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_idempotency_key_replays_a_create(who) -> None:
    rep = who(REP_A)
    md = [*rep.md, ("idempotency-key", "k-1")]
    request = companies_pb2.CreateCompanyRequest(name="Once", domain="once.com")
    first = rep.companies.CreateCompany(request, metadata=md, timeout=10)
    again = rep.companies.CreateCompany(request, metadata=md, timeout=10)
    assert first == again and rep.ids() == [first.id]
