"""A service-like database for the resources tests: one resource table following the conventions (the
contacts contract serves as its message), plus the chassis' resource tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from crm.contacts.v1 import contacts_pb2
from crm_platform.db import UtcDateTime, make_engine, make_session_factory, transaction
from crm_platform.protobuf import timestamp
from crm_platform.resources import Repository, ResourceTables, etag_of, resource_tables


class Base(DeclarativeBase):
    pass


tables = resource_tables(Base.metadata)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


def to_message(person: Person) -> contacts_pb2.Contact:
    message = contacts_pb2.Contact(
        id=person.id,
        first_name=person.first_name,
        last_name=person.last_name,
        email=person.email,
        phone=person.phone,
        company=person.company,
        created_at=timestamp(person.created_at),
        updated_at=timestamp(person.updated_at),
        etag=etag_of(person.id, person.version),
    )
    if person.archived_at is not None:
        message.archived_at.CopyFrom(timestamp(person.archived_at))
    return message


def to_columns(message: contacts_pb2.Contact) -> dict[str, Any]:
    return {
        "first_name": message.first_name,
        "last_name": message.last_name,
        "email": message.email,
        "phone": message.phone,
        "company": message.company,
    }


people = Repository(Person, "person", to_message=to_message, to_columns=to_columns, request_field="contact")


@dataclass
class Db:
    """Test modules reach everything through this fixture (conftest modules are not importable)."""

    engine: Engine
    sessions: sessionmaker[Session]
    tables: ResourceTables = tables
    model: type[Person] = Person
    repo: Repository[Person, contacts_pb2.Contact] = people

    @staticmethod
    def new(person_id: str = "p1", email: str = "ada@example.com", **fields: Any) -> Person:
        values = {"first_name": "Ada", "last_name": "Lovelace", "phone": "", "company": "", **fields}
        return Person(id=person_id, email=email, **values)

    def create(self, person_id: str = "p1", email: str = "ada@example.com", actor: str = "u1") -> Person:
        with transaction(self.sessions) as session:
            return self.repo.create(session, self.new(person_id, email), actor).row


@pytest.fixture
def db(database_url: str) -> Iterator[Db]:
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    yield Db(engine, make_session_factory(engine))
    engine.dispose()
