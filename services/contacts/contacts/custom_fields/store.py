"""Custom fields' tables, their mapping to the contract, and the queries.

- `custom_field_definitions`: a standard resource (crm_platform.resources.Repository: etag, field mask,
  history), unique per (resource, name). No ownership columns: definitions are the CRM's schema, the same
  for everyone; who may change them is a rights check (api.py).
- `custom_field_catalogue`: one row whose `version` goes up with every change of a definition, in the
  change's transaction. Each process caches the definitions and reloads them when the version it reads
  differs (catalogue.py): one primary-key read instead of reading every definition per request.
- `custom_field_values`: every value of every record, one row per value (a multi choice value: one per
  choice, `ordinal` its position), in a column of its type. The record's JSON column `custom_fields`
  holds the same values for reads; these rows are for filters and orders. Why rows rather than JSON
  expressions: an index over (resource, field, <typed value>, record_id) serves a filter on any field
  of that type, on SQLite and PostgreSQL alike, while an index on a JSON expression would be one index
  per field, made at run time with DDL, and written differently per backend.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    Index,
    Integer,
    Select,
    String,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from contacts.custom_fields.domain import (
    BOOLEAN,
    DATE,
    MULTI_CHOICE,
    NUMBER,
    Definition,
)
from contacts.store import Base
from crm.contacts.v1 import custom_fields_pb2
from crm_platform import protojson
from crm_platform.db import UtcDateTime
from crm_platform.protobuf import timestamp
from crm_platform.resources import Repository, etag_of

ONE_NAME_PER_RESOURCE = "uq_custom_field_definitions_resource_name"
RESOURCE_NAMES = protojson.enum_names(custom_fields_pb2.CustomFieldResource.DESCRIPTOR)
TYPE_NAMES = protojson.enum_names(custom_fields_pb2.CustomFieldType.DESCRIPTOR)
RESOURCE_NUMBERS = protojson.enum_numbers(custom_fields_pb2.CustomFieldResource.DESCRIPTOR)
TYPE_NUMBERS = protojson.enum_numbers(custom_fields_pb2.CustomFieldType.DESCRIPTOR)


class CustomFieldDefinition(Base):
    __tablename__ = "custom_field_definitions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource: Mapped[str] = mapped_column(String(20))  # "contacts" | "companies"
    name: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))  # the type's JSON name, e.g. "single_choice"
    choices: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    required: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # never set

    __table_args__ = (Index(ONE_NAME_PER_RESOURCE, "resource", "name", unique=True),)


class CustomFieldCatalogue(Base):
    __tablename__ = "custom_field_catalogue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)


class CustomFieldValue(Base):
    __tablename__ = "custom_field_values"

    resource: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # COLLATE "C" on PostgreSQL (migration 0010), so its index serves code-point order there.
    text_value: Mapped[str | None] = mapped_column(String(500), nullable=True)
    number_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    date_value: Mapped[str | None] = mapped_column(String(10), nullable=True)
    bool_value: Mapped[bool | None] = mapped_column(Boolean, nullable=True)

    __table_args__ = tuple(
        Index(f"ix_custom_field_values_{kind}", "resource", "field", column, "record_id")
        for kind, column in (
            ("text", "text_value"),
            ("number", "number_value"),
            ("date", "date_value"),
            ("bool", "bool_value"),
        )
    )


# --- the contract -----------------------------------------------------------------------------------


def to_message(row: Any) -> custom_fields_pb2.CustomField:
    return custom_fields_pb2.CustomField(
        id=row.id,
        resource=RESOURCE_NUMBERS.get(row.resource, 0),
        name=row.name,
        label=row.label,
        type=TYPE_NUMBERS.get(row.type, 0),
        choices=list(row.choices or []),
        required=row.required,
        description=row.description or "",
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
        etag=etag_of(row.id, row.version),
    )


def to_columns(message: custom_fields_pb2.CustomField) -> dict[str, Any]:
    return {
        "resource": RESOURCE_NAMES.get(message.resource),
        "name": message.name,
        "label": message.label,
        "type": TYPE_NAMES.get(message.type),
        "choices": list(message.choices) or None,
        "required": message.required,
        "description": message.description or None,
    }


definitions = Repository(
    CustomFieldDefinition,
    "custom_field",
    to_message=to_message,
    to_columns=to_columns,
    request_field="custom_field",
)


def definition_of(row: Any) -> Definition:
    return Definition(row.resource, row.name, row.type, tuple(row.choices or ()), row.required)


def new_definition(message: custom_fields_pb2.CreateCustomFieldRequest) -> CustomFieldDefinition:
    return CustomFieldDefinition(
        id=str(uuid.uuid4()),
        resource=RESOURCE_NAMES.get(message.resource),
        name=message.name,
        label=message.label.strip(),
        type=TYPE_NAMES.get(message.type),
        choices=list(message.choices) or None,
        required=message.required,
        description=message.description or None,
    )


def all_definitions(session: Session, resource: str = "") -> list[CustomFieldDefinition]:
    query = select(CustomFieldDefinition).order_by(CustomFieldDefinition.resource, CustomFieldDefinition.name)
    if resource:
        query = query.where(CustomFieldDefinition.resource == resource)
    return list(session.scalars(query))


def count_definitions(session: Session, resource: str) -> int:
    query = select(func.count()).where(CustomFieldDefinition.resource == resource)
    return session.scalar(query.select_from(CustomFieldDefinition)) or 0


def name_taken(session: Session, resource: str, name: str) -> bool:
    query = select(CustomFieldDefinition.id).where(
        CustomFieldDefinition.resource == resource, CustomFieldDefinition.name == name
    )
    return session.execute(query).first() is not None


def catalogue_version(session: Session) -> int:
    return session.scalar(select(CustomFieldCatalogue.version).where(CustomFieldCatalogue.id == 1)) or 0


def bump_catalogue(session: Session) -> None:
    """Every process's cached definitions are stale once this commits (catalogue.py)."""
    session.execute(
        update(CustomFieldCatalogue)
        .where(CustomFieldCatalogue.id == 1)
        .values(version=CustomFieldCatalogue.version + 1)
    )


# --- values -----------------------------------------------------------------------------------------

_VALUE_COLUMNS = {
    NUMBER: "number_value",
    DATE: "date_value",
    BOOLEAN: "bool_value",
}


def value_column(field_type: str) -> Any:
    """The column of `custom_field_values` holding values of `field_type`."""
    return getattr(CustomFieldValue, _VALUE_COLUMNS.get(field_type, "text_value"))


def write_values(
    session: Session,
    resource: str,
    record_id: str,
    values: Mapping[str, Any],
    definitions: Mapping[str, Definition],
) -> None:
    """Make the record's value rows exactly `values` (cleaned by domain.clean_values)."""
    erase_values(session, resource, record_id)
    rows: list[dict[str, Any]] = []
    for name, value in values.items():
        definition = definitions[name]
        items = value if definition.type == MULTI_CHOICE else [value]
        column = _VALUE_COLUMNS.get(definition.type, "text_value")
        rows += [
            {"resource": resource, "record_id": record_id, "field": name, "ordinal": n, column: item}
            for n, item in enumerate(items)
        ]
    if rows:
        session.execute(insert(CustomFieldValue), rows)


def erase_values(session: Session, resource: str, record_id: str) -> None:
    session.execute(
        delete(CustomFieldValue).where(
            CustomFieldValue.resource == resource, CustomFieldValue.record_id == record_id
        )
    )


def records_with(session: Session, resource: str, field: str, texts: Iterable[str] | None = None) -> int:
    """How many records have a value for the field (among `texts`, when given: choices in use)."""
    query = select(func.count(func.distinct(CustomFieldValue.record_id))).where(
        CustomFieldValue.resource == resource, CustomFieldValue.field == field
    )
    if texts is not None:
        query = query.where(CustomFieldValue.text_value.in_(list(texts)))
    return session.scalar(query) or 0


def rows_of(resource: str, field: str) -> Select[tuple[str]]:
    """The records' ids of one field's value rows (what a filter narrows by value)."""
    return select(CustomFieldValue.record_id).where(
        CustomFieldValue.resource == resource, CustomFieldValue.field == field
    )


def first_value(resource: str, field: str, field_type: str, key: Any) -> Any:
    """The record's (first) value of the field, correlated to `key` (its id column): what orders by it,
    one primary-key lookup per row."""
    return (
        select(value_column(field_type))
        .where(
            CustomFieldValue.resource == resource,
            CustomFieldValue.record_id == key,
            CustomFieldValue.field == field,
            CustomFieldValue.ordinal == 0,
        )
        .scalar_subquery()
    )
