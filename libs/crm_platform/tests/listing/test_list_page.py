"""list_page end to end on SQLite and PostgreSQL: limits, paging, cursor binding, the caller's scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, String, delete, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from crm_platform.db import UtcDateTime, make_engine
from crm_platform.errors import InvalidArgument
from crm_platform.listing import (
    ENUM,
    INTEGER,
    STRING,
    TIMESTAMP,
    CursorCodec,
    Field,
    ListRequest,
    ListSpec,
    Page,
    list_page,
    plan_listing,
)
from crm_platform.pagination import MAX_LIMIT


class Base(DeclarativeBase):
    pass


class Contact(Base):
    __tablename__ = "listing_contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(50))
    last_name: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    score: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


CONTACTS = ListSpec(
    name="contacts",
    fields={
        "first_name": Field(Contact.first_name, STRING),
        "last_name": Field(Contact.last_name, STRING),
        "email": Field(Contact.email, STRING),
        "kind": Field(Contact.kind, ENUM, enum_values=("person", "company")),
        "score": Field(Contact.score, INTEGER),
        "created_at": Field(Contact.created_at, TIMESTAMP),
    },
    orderable={"first_name", "last_name", "score", "created_at"},
    default_order="created_at",
    tie_breaker=Contact.id,
)
CODEC = CursorCodec(b"c" * 32)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
EVERYONE = select(Contact)


@pytest.fixture(scope="module")
def engine(module_database_url: str) -> Iterator[Engine]:
    engine = make_engine(module_database_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        session.execute(delete(Contact))
        session.commit()
        yield session


def add(session: Session, count: int, owner: str = "alice", start: int = 0, **values: object) -> None:
    rows = [
        {
            "id": f"c{i:03d}",
            "owner": owner,
            "first_name": f"First{i % 7}",
            "last_name": ["Lovelace", "Hopper", "Turing"][i % 3],
            "email": f"user{i}@{'example.com' if i % 2 else 'example.org'}",
            "kind": "person" if i % 4 else "company",
            "score": None if i % 5 == 0 else i % 4,
            # Duplicate timestamps: the tie-breaker has work to do.
            "created_at": T0 + timedelta(minutes=i // 3),
            **values,
        }
        for i in range(start, start + count)
    ]
    session.execute(insert(Contact), rows)
    session.commit()


def walk(session: Session, request: ListRequest, query: object = EVERYONE) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = ""
    while True:
        page = list_page(
            session,
            query,  # type: ignore[arg-type]
            CONTACTS,
            ListRequest(request.filter, request.order_by, cursor, request.limit),
            CODEC,
        )
        pages.append([c.id for c in page.items])
        if not page.next_cursor:
            return pages
        cursor = page.next_cursor


def test_pages_cover_every_row_once_in_the_default_order(session: Session) -> None:
    add(session, 10)
    pages = walk(session, ListRequest(limit=4))
    assert [len(p) for p in pages] == [4, 4, 2]
    assert [contact for page in pages for contact in page] == [f"c{i:03d}" for i in range(10)]


def test_an_exact_multiple_of_the_page_size_ends_without_an_empty_page(session: Session) -> None:
    add(session, 8)
    assert [len(p) for p in walk(session, ListRequest(limit=4))] == [4, 4]


def test_empty_result(session: Session) -> None:
    page = list_page(session, EVERYONE, CONTACTS, ListRequest(), CODEC)
    assert page == Page([], "")


def test_filter_and_order_with_nulls_and_mixed_directions(session: Session) -> None:
    add(session, 30)
    request = ListRequest(filter='email = "*.com" OR score = null', order_by="score desc, last_name", limit=3)
    got = [contact for page in walk(session, request) for contact in page]
    rows = list(session.scalars(select(Contact)))
    wanted = [c for c in rows if c.email.endswith(".com") or c.score is None]
    # score descending with NULL last, then last_name ascending, then id ascending (the last key's way).
    wanted.sort(key=lambda c: c.id)
    wanted.sort(key=lambda c: c.last_name)
    wanted.sort(key=lambda c: -1 if c.score is None else c.score, reverse=True)
    assert got == [c.id for c in wanted]


def test_limit_defaults_to_50_and_is_bounded(session: Session) -> None:
    add(session, 60)
    assert len(list_page(session, EVERYONE, CONTACTS, ListRequest(limit=0), CODEC).items) == 50
    assert len(list_page(session, EVERYONE, CONTACTS, ListRequest(limit=MAX_LIMIT), CODEC).items) == 60
    for bad in (-1, MAX_LIMIT + 1):
        with pytest.raises(InvalidArgument) as raised:
            list_page(session, EVERYONE, CONTACTS, ListRequest(limit=bad), CODEC)
        assert raised.value.fields == {"limit": "must be between 1 and 200"}


def test_the_callers_scope_is_kept_and_its_order_replaced(session: Session) -> None:
    add(session, 5, owner="alice")
    add(session, 5, owner="bob", start=5)
    scoped = select(Contact).where(Contact.owner == "bob").order_by(Contact.email.desc())
    pages = walk(session, ListRequest(filter='email : "EXAMPLE"', limit=2), scoped)
    assert [contact for page in pages for contact in page] == [f"c{i:03d}" for i in range(5, 10)]
    # A filter cannot widen the scope: OR stays inside the caller's WHERE.
    pages = walk(session, ListRequest(filter='kind = person OR kind != "person"'), scoped)
    assert [contact for page in pages for contact in page] == [f"c{i:03d}" for i in range(5, 10)]


def test_a_select_of_several_columns_gives_tuples(session: Session) -> None:
    add(session, 3)
    page = list_page(session, select(Contact.id, Contact.email), CONTACTS, ListRequest(limit=2), CODEC)
    assert page.items == [("c000", "user0@example.org"), ("c001", "user1@example.com")]
    assert page.next_cursor


def test_keyset_paging_is_stable_under_inserts(session: Session) -> None:
    add(session, 6)
    first = list_page(session, EVERYONE, CONTACTS, ListRequest(limit=3), CODEC)
    # One row lands before the cursor and one after: only the second shows up, nothing repeats.
    add(session, 1, start=100, created_at=T0 - timedelta(days=1))
    add(session, 1, start=101, created_at=T0 + timedelta(days=1))
    rest = list_page(session, EVERYONE, CONTACTS, ListRequest(cursor=first.next_cursor, limit=10), CODEC)
    assert [c.id for c in rest.items] == ["c003", "c004", "c005", "c101"]


def test_a_cursor_survives_an_equivalent_spelling_of_the_same_query(session: Session) -> None:
    add(session, 6)
    first = list_page(
        session, EVERYONE, CONTACTS, ListRequest(filter="kind=person score>0", order_by="", limit=2), CODEC
    )
    request = ListRequest(
        filter="(kind = 'PERSON') AND score > 00",
        order_by="created_at asc",
        cursor=first.next_cursor,
        limit=2,
    )
    assert list_page(session, EVERYONE, CONTACTS, request, CODEC).items


@pytest.mark.parametrize(
    "changed",
    [
        {"filter": 'kind = "company"'},
        {"order_by": "created_at desc"},
        {"order_by": "last_name"},
        {"filter": "kind = person score > 1"},
    ],
)
def test_a_cursor_of_another_query_is_refused(session: Session, changed: dict[str, str]) -> None:
    add(session, 6)
    base = {"filter": "kind = person score > 0", "order_by": "", "limit": 2}
    first = list_page(session, EVERYONE, CONTACTS, ListRequest(**base), CODEC)  # type: ignore[arg-type]
    request = ListRequest(**{**base, **changed, "cursor": first.next_cursor})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument) as raised:
        list_page(session, EVERYONE, CONTACTS, request, CODEC)
    assert raised.value.fields == {"cursor": "does not belong to this query"}


def test_a_cursor_of_another_resource_is_refused(session: Session) -> None:
    add(session, 3)
    first = list_page(session, EVERYONE, CONTACTS, ListRequest(limit=1), CODEC)
    deals = ListSpec(
        name="deals", fields=CONTACTS.fields, orderable={"created_at"}, default_order="created_at",
        tie_breaker=Contact.id,
    )  # fmt: skip
    with pytest.raises(InvalidArgument) as raised:
        list_page(session, EVERYONE, deals, ListRequest(cursor=first.next_cursor, limit=1), CODEC)
    assert raised.value.fields == {"cursor": "does not belong to this query"}


def test_a_tampered_cursor_is_refused(session: Session) -> None:
    add(session, 3)
    cursor = list_page(session, EVERYONE, CONTACTS, ListRequest(limit=1), CODEC).next_cursor
    tampered = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    for bad in (tampered, "garbage", cursor[::-1]):
        with pytest.raises(InvalidArgument) as raised:
            list_page(session, EVERYONE, CONTACTS, ListRequest(cursor=bad, limit=1), CODEC)
        assert raised.value.fields == {"cursor": "is not a cursor this API returned"}


def test_a_signed_cursor_whose_key_does_not_fit_is_refused(engine: Engine) -> None:
    # Signed by us (e.g. by an older release with another sort key shape) but unusable.
    plan = plan_listing(CONTACTS, ListRequest(), CODEC, engine.dialect.name)
    for payload in (["2026-01-01T00:00:00+00:00"], [1, "c001"], ["not a time", "c001"], [None, "c001"], {}):
        cursor = CODEC.encode(plan.query_id, payload)
        with pytest.raises(InvalidArgument) as raised:
            plan_listing(CONTACTS, ListRequest(cursor=cursor), CODEC, engine.dialect.name)
        assert raised.value.fields == {"cursor": "is not a cursor this API returned"}, payload


def test_bad_filter_and_order_by_are_reported_before_touching_the_database(session: Session) -> None:
    with pytest.raises(InvalidArgument) as raised:
        list_page(session, EVERYONE, CONTACTS, ListRequest(filter="owner = bob"), CODEC)
    assert raised.value.fields["filter"].startswith('unknown field "owner" at position 0')
    with pytest.raises(InvalidArgument) as raised:
        list_page(session, EVERYONE, CONTACTS, ListRequest(order_by="owner"), CODEC)
    assert raised.value.fields["order_by"].startswith('cannot order by "owner" at position 0')
