"""ListContacts over a real server: the chassis' filter, order_by and signed cursors on contacts' fields."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

from crm_platform.errors import field_errors_from


def emails(page) -> list[str]:
    return [c.email for c in page.items]


@pytest.fixture
def people(client) -> list:
    made = []
    for first, last, email, company in [
        ("Ada", "Lovelace", "ada@example.com", "Analytical Engines"),
        ("Grace", "Hopper", "grace@example.com", "US Navy"),
        ("Alan", "Turing", "alan@example.com", ""),
        ("Mary", "Somerville", "mary@example.com", "Analytical Engines"),
    ]:
        made.append(client.create(email, first_name=first, last_name=last, company=company))
    return made


def test_default_order_is_oldest_first(client, people) -> None:
    assert emails(client.list()) == [p.email for p in people]


def test_filter_on_allow_listed_fields(client, people) -> None:
    assert emails(client.list(filter='company = "Analytical Engines"')) == [
        "ada@example.com",
        "mary@example.com",
    ]
    assert emails(client.list(filter='last_name = "Hopper" OR first_name = "Alan"')) == [
        "grace@example.com",
        "alan@example.com",
    ]
    assert emails(client.list(filter="company = null")) == ["alan@example.com"]  # unknown company
    after = people[1].created_at.ToDatetime(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    assert emails(client.list(filter=f'created_at > "{after}"')) == ["alan@example.com", "mary@example.com"]


def test_order_by_allow_listed_fields(client, people) -> None:
    assert emails(client.list(order_by="last_name desc")) == [
        "alan@example.com",
        "mary@example.com",
        "ada@example.com",
        "grace@example.com",
    ]
    assert emails(client.list(order_by="company, first_name")) == [
        "alan@example.com",  # no company sorts first
        "ada@example.com",
        "mary@example.com",
        "grace@example.com",
    ]


def test_cursor_pages_through_a_filtered_ordered_list(client, people) -> None:
    seen, cursor = [], ""
    while True:
        page = client.list(
            filter='email != "grace@example.com"', order_by="first_name desc", limit=1, cursor=cursor
        )
        seen += emails(page)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == ["mary@example.com", "alan@example.com", "ada@example.com"]


def test_archived_contacts_are_left_out_of_lists(client, people) -> None:
    client.delete(people[0].id)
    assert emails(client.list(filter='company = "Analytical Engines"')) == ["mary@example.com"]


def test_a_cursor_only_works_for_its_own_query(client, people) -> None:
    cursor = client.list(limit=1).next_cursor
    with pytest.raises(grpc.RpcError) as raised:
        client.list(limit=1, cursor=cursor, order_by="email")
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_errors_from(raised.value)) == {"cursor"}


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"filter": 'nickname = "x"'}, "filter"),
        ({"filter": "first_name ="}, "filter"),
        ({"order_by": "phone"}, "order_by"),  # filterable, not orderable
        ({"order_by": "version"}, "order_by"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_bad_list_requests_name_the_field(client, request_fields: dict, field: str) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        client.list(**request_fields)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_errors_from(raised.value)) == {field}


def test_updated_at_is_filterable_and_orderable(client, people) -> None:
    client.update(people[2].id, ["company"], company="Bletchley Park")
    assert emails(client.list(order_by="updated_at desc", limit=1)) == ["alan@example.com"]
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    assert emails(client.list(filter=f'updated_at > "{now}"')) == []
