"""GET /api/v1/contacts:export asks each page with a freshly signed caller context: a long export (a
million rows takes minutes) outlives one signed context, and a page asked with an expired one used to
end the file half-way."""

from __future__ import annotations

import csv
import io
from typing import Any

from crm.contacts.v1 import contacts_pb2, contacts_pb2_grpc
from crm_platform.access.caller import METADATA_KEY
from gateway.routes import imports as export_route

PAGES = 3


class PagedContacts(contacts_pb2_grpc.ContactsServiceServicer):
    """ListContacts in PAGES pages of one contact each; remembers the caller context of each call."""

    def __init__(self) -> None:
        self.contexts: list[str] = []

    def ListContacts(self, request: Any, context: Any) -> contacts_pb2.ListContactsResponse:
        self.contexts.append(dict(context.invocation_metadata()).get(METADATA_KEY, ""))
        page = int(request.cursor or "0")
        following = str(page + 1) if page + 1 < PAGES else ""
        contact = contacts_pb2.Contact(id=f"c{page}", email=f"p{page}@example.com", first_name="P")
        return contacts_pb2.ListContactsResponse(items=[contact], next_cursor=following)


def test_each_page_of_an_export_is_asked_with_a_freshly_signed_caller_context(
    own_gateway, raw_server, monkeypatch
) -> None:
    servicer = PagedContacts()
    server = raw_server(
        "contacts", lambda s: contacts_pb2_grpc.add_ContactsServiceServicer_to_server(servicer, s)
    )
    gateway = own_gateway({"contacts": f"127.0.0.1:{server.port}"})
    signed: list[str] = []

    def signing() -> str:
        token = real_signing()
        signed.append(token)
        return token

    real_signing = export_route.signed_caller_context
    monkeypatch.setattr(export_route, "signed_caller_context", signing)
    client = gateway.client(gateway.token())
    reply = client.get("/api/v1/contacts:export")
    assert reply.status_code == 200, reply.text
    assert [row["email"] for row in csv.DictReader(io.StringIO(reply.text))] == [
        f"p{n}@example.com" for n in range(PAGES)
    ]
    # Every page went out with a context signed for that call (the signer renews it before it expires).
    assert len(servicer.contexts) == PAGES and len(signed) >= PAGES
    assert servicer.contexts == signed[-PAGES:]
