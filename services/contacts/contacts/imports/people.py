"""Contacts as an import writes them (the Adapter of resource `contacts`): rows upserted by external id,
then by primary email, within the caller's book, through ContactsServicer's own create and update; new
contacts written together (batch.py), rows that would change nothing told without UpdateContact
(unchanged.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import astuple
from typing import Any

from sqlalchemy.orm import Session

from contacts import api as contacts_api
from contacts import external_ids
from contacts import store as contacts_store
from contacts.domain import normalise_email
from contacts.imports.adapter import EXTERNAL_ID, Adapter, Found
from contacts.imports.batch import checked_create
from contacts.imports.unchanged import UnchangedRows
from crm.contacts.v1 import contacts_pb2
from crm_platform.access import CallerContext
from crm_platform.errors import DomainError
from crm_platform.resources import Change
from crm_platform.resources.etag import etag_of
from crm_platform.service import Runtime


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
        self.matched = UnchangedRows(caller, contacts_api.DEFAULT_PHONE_REGION.get())
        self._definitions: Any = None  # the custom fields' catalogue, read by a chunk's first create

    def begin_chunk(self) -> None:
        self._definitions = None

    def servicer(self, runtime: Runtime) -> contacts_api.ContactsServicer:
        return contacts_api.ContactsServicer(runtime)

    def existing(self, session: Session, wanted: Mapping[str, Collection[str]]) -> list[Found]:
        rows = self.matched.load(session, wanted.get("email", ()), wanted.get(EXTERNAL_ID, ()))
        found = []
        for row in rows:
            keys = [(row.uniqueness_book, "email", row.email)]
            if row.external_id and row.merged_into is None:
                keys.append((row.uniqueness_book, EXTERNAL_ID, row.external_id))
            found.append(Found(row.id, etag_of(row.id, row.version), tuple(keys)))
        return found

    def unchanged(self, record_id: str, partial: Any, paths: Sequence[str]) -> bool:
        return self.matched.unchanged(record_id, partial, paths)

    def forget(self, record_id: str) -> None:
        self.matched.forget(record_id)

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
