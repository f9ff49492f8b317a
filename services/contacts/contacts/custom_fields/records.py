"""Custom field values on the records of one resource (contacts, companies): how its servicer checks
them on create and update, keeps their value rows in step, and lists by them.

- Create: `check_new` checks the request's `custom_fields` against the current definitions (unknown
  name, wrong type, choice not among the choices, required field missing) and normalises them; the
  record's JSON column gets the cleaned values, and `save` writes the value rows. `check_create` runs
  the contract's and the resource's own rules first and, when they find a bad field, answers it
  together with every bad custom field (one INVALID_ARGUMENT: a client fixes everything at once).
- Update: `updating(apply)` wraps the servicer's update so that a masked `custom_fields` changes only
  the fields it names (null clears one) on top of the stored ones, checked like a create, and the value
  rows follow in the same transaction. A bad built-in field (the contract's rules or the domain's)
  is answered together with the bad custom fields too.
- List: `list_spec` is the resource's allow-list plus `custom_fields.<name>` of every definition
  (built once per catalogue version), used only when the request mentions a custom field, so other lists
  never read the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from google.protobuf import json_format, struct_pb2
from sqlalchemy.orm import Session, sessionmaker

from contacts.custom_fields import store
from contacts.custom_fields.catalogue import Catalogue
from contacts.custom_fields.domain import (
    BOOLEAN,
    DATE,
    MULTI_CHOICE,
    NUMBER,
    PREFIX,
    Definition,
    clean_values,
)
from crm_platform import listing
from crm_platform.db import reading
from crm_platform.errors import InvalidArgument
from crm_platform.listing import Field, ListRequest, ListSpec, Lookup
from crm_platform.validation import FieldViolations, contract_violations

T = TypeVar("T")

_FILTER_TYPES = {
    NUMBER: listing.NUMBER,
    DATE: listing.DATE,
    BOOLEAN: listing.BOOLEAN,
}


def values_of(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as plain JSON values."""
    return json_format.MessageToDict(struct)


def set_values(struct: struct_pb2.Struct, values: Mapping[str, Any]) -> None:
    struct.Clear()
    struct.update(dict(values))


class RecordCustomFields:
    def __init__(
        self,
        resource: str,
        model: Any,
        base_spec: ListSpec,
        catalogue: Catalogue,
        *,
        request_field: str = "",
    ) -> None:
        self.resource = resource
        self.model = model  # the records' table: `id` and a JSON column `custom_fields`
        self.base_spec = base_spec
        self.catalogue = catalogue
        # The Update request's field holding the record ("contact"): how update errors name fields.
        self.request_field = request_field

    def definitions(self, session: Session) -> Mapping[str, Definition]:
        return self.catalogue.current(session).of(self.resource)

    # --- writes -------------------------------------------------------------------------------------

    def check_new(self, session: Session, struct: struct_pb2.Struct) -> dict[str, Any]:
        """A create request's values, checked and normalised (InvalidArgument naming each bad
        `custom_fields.<name>`)."""
        return clean_values(values_of(struct), self.definitions(session), self.resource)

    def check_create(self, sessions: sessionmaker[Session], request: Any, rules: Callable[[], T]) -> T:
        """What `rules()` (the resource's own rules on the Create `request`) answers, after the
        contract's field rules; when either finds a bad field, one InvalidArgument naming those and every
        bad custom field of the request (otherwise the create checks its custom fields in its own
        transaction, `check_new`). For a servicer method marked `checks_own_contract`."""
        violations = FieldViolations(contract_violations(request))
        checked: list[T] = []
        with violations.collecting():
            checked.append(rules())
        if violations:
            with reading(sessions) as session, violations.collecting():
                self.check_new(session, request.custom_fields)
            violations.raise_any(f"invalid {self.resource} fields")
        return checked[0]

    def _updated_values(self, session: Session, record_id: str, struct: struct_pb2.Struct) -> dict[str, Any]:
        """The record's values once an update's `struct` is laid over its stored ones, checked and
        cleaned (InvalidArgument naming each bad `custom_fields.<name>`)."""
        row = session.get(self.model, record_id)  # loaded (and locked) by the update already
        stored = dict((row.custom_fields if row is not None else None) or {})
        stored.update(values_of(struct))
        return clean_values(stored, self.definitions(session), self.resource)

    def _custom_violations(
        self, session: Session, record_id: str, partial: Any, named: set[str]
    ) -> dict[str, str]:
        """The update's bad custom fields not among `named`, named as the update names fields."""
        try:
            self._updated_values(session, record_id, partial.custom_fields)
        except InvalidArgument as error:
            prefix = f"{self.request_field}." if self.request_field else ""
            found = {f"{prefix}{name}": text for name, text in error.fields.items()}
            return {name: text for name, text in found.items() if name not in named}
        return {}

    def save(self, session: Session, record_id: str, values: Mapping[str, Any]) -> None:
        store.write_values(session, self.resource, record_id, values, self.definitions(session))

    def updating(self, apply: Callable[..., Any]) -> Callable[..., Any]:
        """`apply` (a repository-style update: session, id, partial, paths, prepare=, ...) with masked
        custom fields merged, checked and saved (see the module docstring)."""

        def apply_with_custom_fields(
            session: Session,
            record_id: str,
            partial: Any,
            paths: list[str],
            *,
            prepare: Callable[..., None] | None = None,
            **options: Any,
        ) -> Any:
            if PREFIX not in paths:
                return apply(session, record_id, partial, paths, prepare=prepare, **options)
            merged_values: dict[str, Any] = {}

            def prepare_with_custom_fields(merged: Any, **more: Any) -> None:
                errors: dict[str, str] = {}
                try:
                    if prepare is not None:
                        prepare(merged, **more)
                except InvalidArgument as error:
                    errors.update(error.fields)
                try:
                    merged_values.update(self._updated_values(session, record_id, merged.custom_fields))
                except InvalidArgument as error:
                    errors.update(error.fields)
                if errors:
                    raise InvalidArgument("invalid field values", errors)
                set_values(merged.custom_fields, merged_values)

            try:
                change = apply(
                    session, record_id, partial, paths, prepare=prepare_with_custom_fields, **options
                )
            except InvalidArgument as error:
                # The contract's rules on the merged record are checked before `prepare` runs: a bad
                # built-in field is answered with the bad custom fields all the same.
                more = self._custom_violations(session, record_id, partial, set(error.fields))
                if not more:
                    raise
                raise InvalidArgument(error.message, {**error.fields, **more}) from None
            if PREFIX in change.changed_fields:
                self.save(session, record_id, merged_values)
            return change

        return apply_with_custom_fields

    # --- lists --------------------------------------------------------------------------------------

    def list_spec(self, session: Session, request: ListRequest) -> ListSpec:
        if PREFIX not in request.filter and PREFIX not in request.order_by:
            return self.base_spec
        return self.catalogue.spec(session, self.resource, self._with_custom_fields)

    def _with_custom_fields(self, definitions: Mapping[str, Definition]) -> ListSpec:
        base, key = self.base_spec, self.model.id
        fields = dict(base.fields)
        orderable = set(base.orderable)
        for definition in definitions.values():
            name, kind = definition.name, definition.type
            fields[definition.path] = Field(
                store.first_value(self.resource, name, kind, key),
                _FILTER_TYPES.get(kind, listing.STRING),
                repeated=kind == MULTI_CHOICE,
                lookup=Lookup(key, store.rows_of(self.resource, name), store.value_column(kind)),
            )
            if kind != MULTI_CHOICE:
                orderable.add(definition.path)
        return ListSpec(
            name=base.name,
            fields=fields,
            orderable=orderable,
            default_order=base.default_order,
            tie_breaker=base.tie_breaker,
        )
