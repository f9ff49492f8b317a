"""Emails are unique per book: each partner account's contacts form one book, the company's own contacts
(no partner account) another. Within a book a second contact with an email is ALREADY_EXISTS; across
books it is allowed, so no caller learns what another partner's book holds. A conflict names the
existing contact only to a caller who may read it. Real gRPC with signed caller contexts, on SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import select

from contacts import api, store
from contacts.domain import NewContact
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform.access import CallerContext, CallerContextSigner, CallerContextVerifier, builtin_rights
from crm_platform.access.context import CallerContextCheck
from crm_platform.db import transaction
from crm_platform.errors import AlreadyExists, details_from
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
REP_B = _caller("rep-b", "sales_rep", ("team-b",))
PARTNER_1 = _caller("partner-1-user", "partner", (), "p1")
PARTNER_2 = _caller("partner-2-user", "partner", (), "p2")


class As:
    def __init__(
        self, signer: CallerContextSigner, stub: contacts_pb2_grpc.ContactsServiceStub, caller: CallerContext
    ) -> None:
        self.stub, self.md = stub, [("x-crm-caller", signer.sign(caller))]

    def create(self, email: str, **extra: str) -> contacts_pb2.Contact:
        request = contacts_pb2.CreateContactRequest(first_name="A", last_name="B", email=email, **extra)
        return self.stub.CreateContact(request, metadata=self.md, timeout=20)

    def update(self, contact_id: str, **fields: str) -> contacts_pb2.Contact:
        request = contacts_pb2.UpdateContactRequest(contact=contacts_pb2.Contact(id=contact_id, **fields))
        request.update_mask.paths.extend(fields)
        return self.stub.UpdateContact(request, metadata=self.md, timeout=20)


@pytest.fixture
def callers(runtime: Runtime) -> Iterator[Callable[[CallerContext], As]]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    check = CallerContextCheck(CallerContextVerifier({"test": public}))
    server = GrpcServer(
        "contacts", "127.0.0.1:0", lambda s: api.register(s, runtime), caller_check=check, max_workers=16
    ).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    signer, stub = CallerContextSigner(private, "test"), contacts_pb2_grpc.ContactsServiceStub(channel)
    yield lambda caller: As(signer, stub, caller)
    channel.close()
    server.stop(0)


def _refused(call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def _conflict(call: Callable[[], Any]) -> grpc.RpcError:
    error = _refused(call)
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS, error.details()
    assert details_from(error).reason == "ALREADY_EXISTS"
    return error


def _named(error: grpc.RpcError) -> tuple[str, str]:
    details = details_from(error)
    return details.resource_type, details.resource_name


def _books(runtime: Runtime) -> dict[str, tuple[str | None, str]]:
    """id -> (partner_account_id, uniqueness_book) of every contact."""
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            select(store.Contact.id, store.Contact.partner_account_id, store.Contact.uniqueness_book)
        ).all()
    return {row.id: (row.partner_account_id, row.uniqueness_book) for row in rows}


def test_one_email_may_be_in_every_book_once(callers, runtime) -> None:
    partner_1, partner_2, rep_a, admin = (callers(c) for c in (PARTNER_1, PARTNER_2, REP_A, ADMIN))
    in_p1 = partner_1.create("shared@example.com")
    in_p2 = partner_2.create("SHARED@example.com")  # another partner's book: allowed, whatever the case
    in_company = rep_a.create("shared@example.com")  # the company's own book: allowed too
    assert {in_p1.email, in_p2.email, in_company.email} == {"shared@example.com"}
    assert _books(runtime) == {
        in_p1.id: ("p1", "p1"),
        in_p2.id: ("p2", "p2"),
        in_company.id: (None, ""),
    }
    # The other way round: in a partner book first, then the company's.
    partner_2.create("partner-first@example.com")
    rep_a.create("partner-first@example.com")

    # Within one book the rule stays, whoever asks and whatever the case.
    _conflict(lambda: partner_1.create("Shared@Example.com"))
    _conflict(lambda: rep_a.create("shared@example.com"))
    _conflict(lambda: admin.create("shared@example.com", partner_account_id="p2"))
    _conflict(lambda: partner_2.update(partner_2.create("other@example.com").id, email="shared@example.com"))
    assert len(_books(runtime)) == 6  # every refused write left nothing behind


def test_a_conflict_names_the_existing_contact_only_to_a_caller_who_may_read_it(callers) -> None:
    rep_a, rep_b, admin, partner_1 = (callers(c) for c in (REP_A, REP_B, ADMIN, PARTNER_1))
    theirs = rep_a.create("taken@example.com")

    # rep-b (another team, team-level reads) may not read rep-a's contact: the company book's rule still
    # holds, but the answer names nothing, on create and on update alike.
    hidden = [_conflict(lambda: rep_b.create("taken@example.com"))]
    mine = rep_b.create("mine@example.com")
    hidden.append(_conflict(lambda: rep_b.update(mine.id, email="taken@example.com")))
    for error in hidden:
        assert _named(error) == ("", "")
        assert theirs.id not in error.details() and "rep-a" not in error.details()
        trailers = b"".join(
            value if isinstance(value, bytes) else value.encode()
            for _, value in error.trailing_metadata() or ()
        )
        assert theirs.id.encode() not in trailers and b"rep-a" not in trailers
    # The same message for everyone: only the details differ.
    readable = _conflict(lambda: rep_a.create("taken@example.com"))
    assert (
        readable.details() == hidden[0].details() == "a contact with email taken@example.com already exists"
    )

    # Callers who may read it are told which contact has the email.
    assert _named(readable) == ("contact", theirs.id)
    assert _named(_conflict(lambda: admin.create("taken@example.com"))) == ("contact", theirs.id)
    in_p1 = partner_1.create("p1-taken@example.com")
    assert _named(_conflict(lambda: partner_1.create("p1-taken@example.com"))) == ("contact", in_p1.id)


def test_a_contact_moving_to_another_book_needs_its_email_free_there(callers, runtime) -> None:
    admin, rep_a, partner_1 = (callers(c) for c in (ADMIN, REP_A, PARTNER_1))
    in_p1 = partner_1.create("mover@example.com")
    company = admin.create("mover@example.com")

    # Into p1's book, which has the email: refused, and the contact stays where it was.
    assert _named(_conflict(lambda: admin.update(company.id, partner_account_id="p1"))) == (
        "contact",
        in_p1.id,
    )
    # Moving and changing the email at once is checked against the target book with the new email.
    _conflict(lambda: admin.update(company.id, partner_account_id="p1", email="MOVER@example.com"))
    assert _books(runtime)[company.id] == (None, "")

    # Into p2's book, where it is free: allowed, and its book follows its partner account.
    moved = admin.update(company.id, partner_account_id="p2")
    assert moved.partner_account_id == "p2" and _books(runtime)[company.id] == ("p2", "p2")
    # The company's book no longer has the email; p2's does.
    assert rep_a.create("mover@example.com").email == "mover@example.com"
    _conflict(lambda: admin.create("mover@example.com", partner_account_id="p2"))
    # And back into the company's book, which has the email again.
    _conflict(lambda: admin.update(company.id, partner_account_id=""))
    # An email change inside the book it is in.
    assert admin.update(company.id, email="moved@example.com").email == "moved@example.com"
    assert _books(runtime)[company.id] == ("p2", "p2")


def test_a_partner_cannot_probe_another_book_by_moving_a_contact(callers) -> None:
    """A move the caller may not make is refused the same whether or not the target book has the
    email: the ownership check comes before the uniqueness check."""
    partner_1, partner_2 = callers(PARTNER_1), callers(PARTNER_2)
    partner_2.create("in-p2@example.com")
    mine = partner_1.create("in-p2@example.com")
    fresh = partner_1.create("fresh-in-p1@example.com")
    for contact in (mine, fresh):
        error = _refused(lambda c=contact: partner_1.update(c.id, partner_account_id="p2"))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()


@pytest.mark.parametrize("write", ["create", "update"])
def test_concurrent_writes_of_one_email_in_one_book_leave_exactly_one(callers, runtime, write) -> None:
    """Writers that all pass the check before any commits meet the unique index: exactly one wins per
    book, the others get ALREADY_EXISTS (never an internal error); other books are not affected."""
    writers = [(callers(PARTNER_1), "p1")] * 6 + [(callers(PARTNER_2), "p2")] * 6
    targets = [
        as_.create(f"{write}-{n}@example.com").id if write == "update" else ""
        for n, (as_, _) in enumerate(writers)
    ]
    barrier = threading.Barrier(len(writers))
    outcomes: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    def run(as_: As, book: str, target: str) -> None:
        barrier.wait()
        try:
            if target:
                as_.update(target, email="race@example.com")
            else:
                as_.create("race@example.com")
            outcome = "ok"
        except grpc.RpcError as error:
            outcome = error.code().name
        with lock:
            outcomes[(book, outcome)] += 1

    threads = [
        threading.Thread(target=run, args=(as_, book, target))
        for (as_, book), target in zip(writers, targets, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == {
        ("p1", "ok"): 1,
        ("p1", "ALREADY_EXISTS"): 5,
        ("p2", "ok"): 1,
        ("p2", "ALREADY_EXISTS"): 5,
    }
    with runtime.engine.connect() as conn:
        holders = conn.execute(
            select(store.Contact.uniqueness_book).where(store.Contact.email == "race@example.com")
        ).scalars()
        assert sorted(holders) == ["p1", "p2"]


def test_the_unique_index_alone_refuses_a_duplicate_in_a_book_and_names_nobody(runtime, monkeypatch) -> None:
    """The race path (both writers passed the check): the index refuses the second, which is answered
    as the same conflict, naming nobody since the holder was not looked up."""
    with transaction(runtime.sessions) as session:
        store.add_contact(session, NewContact("A", "B", "index@example.com"), "admin")
    monkeypatch.setattr(store, "_ensure_email_free", lambda *args, **kwargs: None)
    with pytest.raises(AlreadyExists) as caught, transaction(runtime.sessions) as session:
        store.add_contact(session, NewContact("A", "B", "index@example.com"), "admin")
    assert isinstance(caught.value, store.EmailTaken) and caught.value.existing_id == ""
    assert [type(d).__name__ for d in caught.value.details()] == ["ErrorInfo"]
