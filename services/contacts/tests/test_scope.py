"""Record-level scope in the contacts service, called over real gRPC with signed caller contexts: what
each caller may see and do, and that nothing leaks through get, list, filter, cursors, history or writes."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from contacts import api
from crm.common.v1 import history_pb2
from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform.access import CallerContext, CallerContextSigner, CallerContextVerifier, builtin_rights
from crm_platform.access.context import CallerContextCheck
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
MANAGER_A = _caller("mgr-a", "manager", ("team-a",))
READER = _caller("reader", "read_only")
PARTNER_1 = _caller("partner-1-user", "partner", (), "p1")
PARTNER_2 = _caller("partner-2-user", "partner", (), "p2")


@pytest.fixture
def signer_and_stub(
    runtime: Runtime,
) -> Iterator[tuple[CallerContextSigner, contacts_pb2_grpc.ContactsServiceStub]]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    check = CallerContextCheck(CallerContextVerifier({"test": public}))
    server = GrpcServer(
        "contacts",
        "127.0.0.1:0",
        lambda s: api.register(s, runtime),
        caller_check=check,
    ).start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield CallerContextSigner(private, "test"), contacts_pb2_grpc.ContactsServiceStub(channel)
    channel.close()
    server.stop(0)


class As:
    def __init__(
        self, signer: CallerContextSigner, stub: contacts_pb2_grpc.ContactsServiceStub, caller: CallerContext
    ):
        self.stub, self.md = stub, [("x-crm-caller", signer.sign(caller))]

    def create(self, email: str, **extra: str) -> contacts_pb2.Contact:
        request = contacts_pb2.CreateContactRequest(first_name="A", last_name="B", email=email, **extra)
        return self.stub.CreateContact(request, metadata=self.md, timeout=10)

    def get(self, contact_id: str) -> contacts_pb2.Contact:
        return self.stub.GetContact(
            contacts_pb2.GetContactRequest(id=contact_id), metadata=self.md, timeout=10
        )

    def ids(self, **request: object) -> set[str]:
        found, cursor = set(), ""
        while True:
            page = self.stub.ListContacts(
                contacts_pb2.ListContactsRequest(cursor=cursor, limit=2, **request),
                metadata=self.md,
                timeout=10,
            )
            found |= {c.id for c in page.items}
            if not page.next_cursor:
                return found
            cursor = page.next_cursor

    def update(self, contact_id: str, **fields: str) -> contacts_pb2.Contact:
        request = contacts_pb2.UpdateContactRequest(contact=contacts_pb2.Contact(id=contact_id, **fields))
        request.update_mask.paths.extend(fields)
        return self.stub.UpdateContact(request, metadata=self.md, timeout=10)

    def delete(self, contact_id: str) -> None:
        self.stub.DeleteContact(
            contacts_pb2.DeleteContactRequest(id=contact_id), metadata=self.md, timeout=10
        )

    def history(self, contact_id: str) -> history_pb2.ListHistoryResponse:
        return self.stub.ListContactHistory(
            history_pb2.ListHistoryRequest(id=contact_id), metadata=self.md, timeout=10
        )


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code()


def test_scope_holds_for_every_read_and_write(signer_and_stub) -> None:
    signer, stub = signer_and_stub
    admin, rep_a, rep_a2, rep_b = (As(signer, stub, c) for c in (ADMIN, REP_A, REP_A2, REP_B))
    manager, reader, partner_1, partner_2 = (
        As(signer, stub, c) for c in (MANAGER_A, READER, PARTNER_1, PARTNER_2)
    )

    mine = rep_a.create("a1@example.com")
    assert (mine.owner_id, mine.team_id, mine.partner_account_id) == ("rep-a", "team-a", "")
    teammate = rep_a2.create("a2@example.com")
    other_team = rep_b.create("b1@example.com")
    p1 = partner_1.create("p1@example.com")
    assert p1.partner_account_id == "p1" and p1.owner_id == "partner-1-user"
    p2 = partner_2.create("p2@example.com")

    # sales_rep reads its team's contacts, updates and deletes only its own.
    assert rep_a.ids() == {mine.id, teammate.id}
    assert _code(lambda: rep_a.get(other_team.id)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: rep_a.history(other_team.id)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: rep_a.update(other_team.id, company="X")) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: rep_a.update(teammate.id, company="X")) == grpc.StatusCode.PERMISSION_DENIED
    assert rep_a.update(mine.id, company="Mine").company == "Mine"
    assert _code(lambda: rep_a.update(mine.id, owner_id="rep-b")) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: rep_a.delete(teammate.id)) == grpc.StatusCode.PERMISSION_DENIED
    # Filters and order cannot reach past the scope.
    assert rep_a.ids(filter='email = "b1@example.com"') == set()
    assert rep_a.ids(filter='owner_id = "rep-b"') == set()

    # A manager acts on the team; the reader reads everything and changes nothing; admin sees all.
    assert manager.update(teammate.id, owner_id="rep-a").owner_id == "rep-a"
    assert reader.ids() == {mine.id, teammate.id, other_team.id, p1.id, p2.id}
    assert _code(lambda: reader.create("r@example.com")) == grpc.StatusCode.PERMISSION_DENIED
    assert _code(lambda: reader.update(mine.id, company="Y")) == grpc.StatusCode.PERMISSION_DENIED
    assert admin.ids() == reader.ids()

    # Partner users see only their own account's records, whatever their role says.
    assert partner_1.ids() == {p1.id}
    assert _code(lambda: partner_1.get(p2.id)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: partner_1.get(mine.id)) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: partner_1.update(p2.id, company="Z")) == grpc.StatusCode.NOT_FOUND
    assert _code(lambda: partner_1.update(p1.id, partner_account_id="p2")) == grpc.StatusCode.INVALID_ARGUMENT
    assert (
        _code(lambda: partner_1.create("x@example.com", partner_account_id="p2"))
        == grpc.StatusCode.INVALID_ARGUMENT
    )


def test_a_cursor_minted_for_one_caller_is_refused_for_another(signer_and_stub) -> None:
    signer, stub = signer_and_stub
    rep_a, rep_a2 = As(signer, stub, REP_A), As(signer, stub, REP_A2)
    for n in range(3):
        rep_a.create(f"c{n}@example.com")
    page = stub.ListContacts(contacts_pb2.ListContactsRequest(limit=1), metadata=rep_a.md, timeout=10)
    assert page.next_cursor
    request = contacts_pb2.ListContactsRequest(limit=1, cursor=page.next_cursor)
    assert (
        _code(lambda: stub.ListContacts(request, metadata=rep_a2.md, timeout=10))
        == grpc.StatusCode.INVALID_ARGUMENT
    )


def test_no_forged_or_expired_context_gets_in(signer_and_stub, runtime) -> None:
    signer, stub = signer_and_stub
    request = contacts_pb2.ListContactsRequest()
    assert _code(lambda: stub.ListContacts(request, timeout=10)) == grpc.StatusCode.UNAUTHENTICATED
    assert _code(lambda: stub.ListContacts(request, metadata=[("x-crm-user-id", "admin")], timeout=10)) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    forger = CallerContextSigner(
        Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()), "test"
    )
    forged = [("x-crm-caller", forger.sign(ADMIN))]
    assert (
        _code(lambda: stub.ListContacts(request, metadata=forged, timeout=10))
        == grpc.StatusCode.UNAUTHENTICATED
    )
    import time

    expired = [("x-crm-caller", signer.sign(ADMIN, now=time.time() - 3600))]
    assert (
        _code(lambda: stub.ListContacts(request, metadata=expired, timeout=10))
        == grpc.StatusCode.UNAUTHENTICATED
    )
