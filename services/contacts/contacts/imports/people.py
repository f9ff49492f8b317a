"""Contacts as an import writes them (the Adapter of resource `contacts`): rows upserted by external id,
then by primary email, within the caller's book, through ContactsServicer's own create and update; new
contacts written together (batch.py), rows that would change nothing told without UpdateContact
(unchanged.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import astuple
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from contacts import api as contacts_api
from contacts import external_ids
from contacts import store as contacts_store
from contacts.domain import NewContact, normalise_email
from contacts.imports.adapter import EXTERNAL_ID, Adapter, Found
from contacts.imports.preparing import PreparedRow
from contacts.imports.unchanged import Rules, UnchangedRows
from crm.contacts.v1 import contacts_pb2
from crm_platform.access import CallerContext
from crm_platform.errors import DomainError, InvalidArgument
from crm_platform.resources import Change
from crm_platform.resources.etag import etag_of
from crm_platform.service import Runtime
from crm_platform.validation import contract_violations


def _matching(emails: Collection[str], external: Collection[str]) -> ColumnElement[bool] | None:
    """The contacts holding `emails` as their primary email, or `external` ids (live ones), in any book
    (None: no keys)."""
    table = contacts_store.Contact.__table__
    matches = []
    if emails:
        matches.append(table.c.email.in_(emails))
    if external:
        matches.append(
            table.c.external_id.in_(external)
            & table.c.external_id.is_not(None)
            & table.c.merged_into.is_(None)
        )
    return or_(*matches) if matches else None


def _update_rules(region: str) -> Rules:
    """The domain's rules on a merged contact as UpdateContact feeds them (`store.rules_inputs`: which
    of email and phone the row writes, the numbers the contact already has), for unchanged.py."""

    def rules(row: Any, merged: contacts_pb2.Contact, paths: Sequence[str]) -> None:
        written, known = contacts_store.rules_inputs(row, merged, paths)
        contacts_api.apply_contact_rules(merged, written=written, known_numbers=known, region=region)

    return rules


def checked_create(
    servicer: contacts_api.ContactsServicer,
    session: Session,
    request: contacts_pb2.CreateContactRequest,
    definitions: Any,
    prepared: PreparedRow | None = None,
) -> contacts_api.CheckedCreate:
    """The row's contact as `add_checked` takes it, or the DomainError CreateContact would answer (the
    server checks the contract's field rules before CreateContact runs, so they come first here).
    `prepared`: the same rules' answers found beforehand in the preparing process (preparing.py), the
    cleaned request as People.clean_request encoded it there."""
    violations = prepared.violations if prepared is not None else contract_violations(request)
    if violations:
        raise InvalidArgument("the row breaks the contract's field rules", violations)
    cleaned = None
    if prepared is not None:
        fields, profile = prepared.cleaned_or_refusal()
        cleaned = NewContact(*fields), contacts_pb2.CreateContactRequest.FromString(profile)
    return servicer.check_create(session, request, definitions, cleaned)


class People(Adapter):
    name = "contacts"
    noun = "contact"
    create_request = contacts_pb2.CreateContactRequest
    record = contacts_pb2.Contact
    natural_key = "email"
    repository = contacts_store.contacts
    create_method, update_method = "CreateContact", "UpdateContact"
    update_request = contacts_pb2.UpdateContactRequest
    taken = {"email": contacts_store.EmailTaken, EXTERNAL_ID: contacts_store.external_id_taken}
    normalisers = {"email": normalise_email, EXTERNAL_ID: external_ids.clean}
    batch = True

    def __init__(self, caller: CallerContext) -> None:
        super().__init__(caller)
        self.matched: UnchangedRows = UnchangedRows(
            caller, contacts_store.contacts, _update_rules(contacts_api.DEFAULT_PHONE_REGION.get())
        )
        self._definitions: Any = None  # the custom fields' catalogue, read by a chunk's first create

    def begin_chunk(self) -> None:
        self._definitions = None

    def servicer(self, runtime: Runtime) -> contacts_api.ContactsServicer:
        return contacts_api.ContactsServicer(runtime)

    def existing(self, session: Session, wanted: Mapping[str, Collection[str]]) -> list[Found]:
        rows = self.matched.load(session, _matching(wanted.get("email", ()), wanted.get(EXTERNAL_ID, ())))
        found = []
        for row in rows:
            keys = [(row.uniqueness_book, "email", row.email)]
            if row.external_id and row.merged_into is None:
                keys.append((row.uniqueness_book, EXTERNAL_ID, row.external_id))
            found.append(Found(row.id, etag_of(row.id, row.version), tuple(keys)))
        return found

    def check_create(self, servicer: Any, session: Session, request: Any, prepared: Any = None) -> Any:
        if self._definitions is None:
            self._definitions = servicer.custom_fields.definitions(session)
        return checked_create(servicer, session, request, self._definitions, prepared)

    prepares = True

    @classmethod
    def clean_request(cls, request: Any, region: str) -> tuple[tuple[str, ...], bytes]:
        new, profile = contacts_api.clean_create_request(request, region)
        return astuple(new), profile.SerializeToString()

    def add_checked(
        self, servicer: Any, session: Session, checked: Sequence[Any], actor_id: str
    ) -> list[Change[Any] | DomainError]:
        return servicer.add_checked(session, checked, actor_id)
