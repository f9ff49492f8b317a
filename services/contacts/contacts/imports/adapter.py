"""What an import needs to know of the records it writes: one Adapter per resource (people.py: contacts,
companies.py: companies), so that the pipeline (rows.py: chunks, upserts, batches, savepoints, dry runs,
per-row errors) is written once.

A row is matched to a record of the caller's book by its keys, in order: `external_id`, then the
resource's natural key (a contact's email, a company's domain). A key is (book, field, normalised value).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from google.protobuf import field_mask_pb2
from google.protobuf.message import Message
from sqlalchemy.orm import Session

from contacts import external_ids
from contacts.imports.calls import Call
from contacts.imports.unchanged import UnchangedRows
from crm_platform.access import CallerContext
from crm_platform.errors import DomainError
from crm_platform.resources import Change, Repository
from crm_platform.service import Runtime

Key = tuple[str, str, str]  # (book, field, value): what an import matches an existing record by
EXTERNAL_ID = external_ids.COLUMN


@dataclass(frozen=True)
class Found:
    """A record a chunk's rows may match: its id, its etag now, and the keys it holds."""

    id: str
    etag: str
    keys: tuple[Key, ...]


class Adapter:
    """One resource's side of an import, for one job (its caller). Subclasses fill in the class
    attributes and the methods below; `batch` is optional (rows then create one by one)."""

    name: ClassVar[str]  # the import's `resource`: "contacts"
    noun: ClassVar[str]  # "contact", in messages
    create_request: ClassVar[type[Message]]  # its rows are decoded into this message
    record: ClassVar[type[Message]]  # an update's partial record
    natural_key: ClassVar[str]  # "email", "domain"
    repository: ClassVar[Repository[Any]]
    # The servicer's methods rows go through, and the Update request (its record field is `noun`).
    create_method: ClassVar[str]  # "CreateContact"
    update_method: ClassVar[str]  # "UpdateContact"
    update_request: ClassVar[type[Message]]
    # The service's own "taken" answer per key field, for a holder out of the caller's scope.
    taken: ClassVar[Mapping[str, Callable[[str], DomainError]]]
    # Per key field, how a cell becomes the stored value it is compared with.
    normalisers: ClassVar[Mapping[str, Callable[[str], str]]]

    def __init__(self, caller: CallerContext) -> None:
        self.caller = caller

    @classmethod
    def key_fields(cls) -> tuple[str, str]:
        return (EXTERNAL_ID, cls.natural_key)

    @classmethod
    def importable(cls) -> list[str]:
        from contacts.imports.fields import importable_fields

        return importable_fields(cls.create_request.DESCRIPTOR)

    def begin_chunk(self) -> None:
        """A chunk starts (in a new transaction): forget what was read for the previous one."""

    def servicer(self, runtime: Runtime) -> Any:
        """The resource's servicer over `runtime` (whose sessions are the chunk's)."""
        raise NotImplementedError

    def existing(self, session: Session, wanted: Mapping[str, Collection[str]]) -> list[Found]:
        """The records holding any of the `wanted` values (key field -> values), in any book."""
        raise NotImplementedError

    def create(self, servicer: Any, request: Message) -> tuple[str, str]:
        """The servicer's Create, in-process; (id, etag)."""
        created = getattr(servicer, self.create_method)(request, Call())
        return str(created.id), str(created.etag)

    def update(self, servicer: Any, partial: Message, paths: Sequence[str]) -> str:
        """The servicer's Update of `paths` of `partial`, in-process; the new etag."""
        request = self.update_request(update_mask=field_mask_pb2.FieldMask(paths=paths))
        getattr(request, self.noun).CopyFrom(partial)
        return str(getattr(servicer, self.update_method)(request, Call()).etag)

    # The records `existing` read, whole, for telling rows that change nothing without the servicer
    # (unchanged.py); None: every matched row goes through the Update.
    matched: UnchangedRows | None = None

    def unchanged(self, record_id: str, partial: Message, paths: Sequence[str]) -> bool:
        """True when the update would change nothing and the caller may make it (told without the
        servicer); False when the servicer must answer."""
        return self.matched is not None and self.matched.unchanged(record_id, partial, paths)

    def forget(self, record_id: str) -> None:
        """The record is written in this chunk: what `existing` read of it is stale."""
        if self.matched is not None:
            self.matched.forget(record_id)

    # --- creates written together (optional) -------------------------------------------------------

    batch: ClassVar[bool] = False

    def check_create(self, servicer: Any, session: Session, request: Message, prepared: Any = None) -> Any:
        """What the batch writes for this row, or the DomainError the Create would answer (`prepared`:
        the row's PreparedRow when it was cleaned beforehand, preparing.py)."""
        raise NotImplementedError

    # --- rows cleaned beforehand in another process (optional; preparing.py) ----------------------------

    prepares: ClassVar[bool] = False

    @classmethod
    def clean_request(cls, request: Message, region: str) -> Any:
        """The Create's rules that read no database, on `request` (in the preparing process): what
        check_create takes as the row's `prepared.cleaned` (picklable), or InvalidArgument."""
        raise NotImplementedError

    def add_checked(
        self, servicer: Any, session: Session, checked: Sequence[Any], actor_id: str
    ) -> list[Change[Any] | DomainError]:
        """The Create's writes for the checked rows, each its Change or its refusal, in order."""
        raise NotImplementedError
