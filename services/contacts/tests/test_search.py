"""Search (`q` on ListContacts) through a real gRPC server on SQLite and PostgreSQL: prefix, one-letter
typos, phones in any format, emails, company, tags, ranking and paging, the caller's scope, the filter,
updates and erasure keeping the index in step, and bad queries refused."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from sqlalchemy import func, or_, select

from contacts.privacy import erasure
from contacts.search.query import parse_query, phone_forms
from contacts.store import search_index
from crm.contacts.v1 import contacts_pb2
from crm_platform.db import transaction
from crm_platform.testing.callers import caller_metadata

ADMIN = caller_metadata("admin-user", "admin")
REP_A = caller_metadata("rep-a", "sales_rep", team_ids=("team-a",))
REP_B = caller_metadata("rep-b", "sales_rep", team_ids=("team-b",))
PARTNER_1 = caller_metadata("partner-1-user", "partner", partner_account_id="p1")
PARTNER_2 = caller_metadata("partner-2-user", "partner", partner_account_id="p2")


@pytest.fixture
def create(stub) -> Callable[..., contacts_pb2.Contact]:
    def create(first: str, last: str, email: str, *, who=ADMIN, **fields) -> contacts_pb2.Contact:
        request = contacts_pb2.CreateContactRequest(first_name=first, last_name=last, email=email, **fields)
        return stub.CreateContact(request, metadata=who, timeout=10)

    return create


@pytest.fixture
def search(stub) -> Callable[..., list[str]]:
    """The last names of the results of one page, in order."""

    def search(q: str, *, who=ADMIN, **fields) -> list[str]:
        request = contacts_pb2.ListContactsRequest(q=q, limit=fields.pop("limit", 50), **fields)
        return [c.last_name for c in stub.ListContacts(request, metadata=who, timeout=10).items]

    return search


def _code(call: Callable[[], object]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code()


def test_finds_by_prefix_typo_phone_email_company_and_tag_best_first(create, search) -> None:
    create(
        "Ada", "Lovelace", "ada.lovelace@example.org", phone="+44 20 7946 0000", company="Analytical Engines"
    )
    create("Charles", "Babbage", "charles@difference.example", tags=["vip", "trade show"])
    create("Zoë", "Smithson", "zoe@example.com")
    create("John", "Smith", "john.smith@example.com", company="Smith & Sons")

    assert search("lov") == ["Lovelace"]  # a word's prefix
    assert search("ada lov") == ["Lovelace"]  # the whole name's
    assert search("LOVELACE") == ["Lovelace"]
    assert search("zoe") == ["Smithson"]  # accents and case ignored
    # The exact word before its longer completions; the company "Smith & Sons" is the same contact.
    assert search("smith") == ["Smith", "Smithson"]
    # One letter wrong, left out, added or two swapped.
    assert search("lovelacr") == ["Lovelace"]
    assert search("lvoelace") == ["Lovelace"]
    assert search("babage") == ["Babbage"]
    assert search("ada lovelacce") == ["Lovelace"]
    assert search("smiht") == ["Smith", "Smithson"]
    # The phone in the forms people write it in.
    for written in ("020 7946 0000", "+44 20 7946 0000", "2079460000", "0044 20 7946 0000", "+44 (0)20 7946"):
        assert search(written) == ["Lovelace"], written
    assert search("ada.lovelace@exam") == ["Lovelace"]  # an email, as written
    assert search("difference.example") == ["Babbage"]  # its domain
    assert search("analytical eng") == ["Lovelace"]  # the company
    assert search("vip") == ["Babbage"] and search("trade show") == ["Babbage"]  # tags
    assert search("babbage vip") == ["Babbage"]  # every word somewhere
    assert search("nobody") == [] and search("555 1234 999") == []


def test_results_follow_the_scope_and_the_filter(create, search) -> None:
    create("Anna", "Quartermain", "a@example.com", who=REP_A, country="DE")
    create("Anna", "Wellington", "b@example.com", who=REP_B, country="DE")
    create("Anna", "Fontaine", "p1@example.com", who=PARTNER_1, country="FR")
    create("Anna", "Hargreaves", "p2@example.com", who=PARTNER_2, country="DE")

    # Equal matches (the same term) come in id order: compared as sets here.
    assert sorted(search("anna")) == ["Fontaine", "Hargreaves", "Quartermain", "Wellington"]
    assert search("anna", who=REP_A) == ["Quartermain"]
    assert search("anna", who=REP_B) == ["Wellington"]
    assert search("quartermain", who=REP_B) == [] and search("quartermain", who=PARTNER_1) == []
    assert search("anna", who=PARTNER_1) == ["Fontaine"]
    assert search("fontaine", who=PARTNER_2) == [] and search("fontane", who=PARTNER_2) == []
    assert sorted(search("anna", filter='country = "DE"')) == ["Hargreaves", "Quartermain", "Wellington"]
    assert search("anna", filter='country = "DE"', who=PARTNER_1) == []


def test_pages_walk_the_ranking_once_and_cursors_stay_with_their_query(stub, create) -> None:
    names = ["Smith", "Smithers", "Smithson", "Smyth", "Smit", "Smithe"]
    for i, name in enumerate(names):
        create(f"Person{i}", name, f"p{i}@example.com")
    seen, cursor = [], ""
    while True:
        page = stub.ListContacts(
            contacts_pb2.ListContactsRequest(q="smith", limit=2, cursor=cursor), metadata=ADMIN, timeout=10
        )
        seen += [c.last_name for c in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    # Prefix matches in term order, then those one letter away (smit, smyth), each once.
    assert seen == ["Smith", "Smithe", "Smithers", "Smithson", "Smit", "Smyth"]

    first = stub.ListContacts(
        contacts_pb2.ListContactsRequest(q="smith", limit=2), metadata=ADMIN, timeout=10
    )
    for other in ({"q": "smit"}, {"q": "smith", "filter": 'country = "DE"'}):
        request = contacts_pb2.ListContactsRequest(limit=2, cursor=first.next_cursor, **other)
        assert _code(lambda r=request: stub.ListContacts(r, metadata=ADMIN, timeout=10)) == (
            grpc.StatusCode.INVALID_ARGUMENT
        )
    request = contacts_pb2.ListContactsRequest(q="smith", limit=2, cursor=first.next_cursor)
    assert (
        _code(lambda: stub.ListContacts(request, metadata=REP_A, timeout=10))
        == grpc.StatusCode.INVALID_ARGUMENT
    )


def test_bad_queries_are_invalid_arguments(stub) -> None:
    for asked in (
        {"q": "   "},
        {"q": "?!-"},
        {"q": "a b c d e f g h i"},
        {"q": "x" * 201},
        {"q": "bad\x01"},
        {"q": "smith", "order_by": "last_name"},
    ):
        request = contacts_pb2.ListContactsRequest(**asked)
        code = _code(lambda r=request: stub.ListContacts(r, metadata=ADMIN, timeout=10))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, asked


def test_updates_and_erasure_keep_the_index_in_step(stub, create, search, runtime) -> None:
    contact = create("Grace", "Hopperqz", "grace@navy.example", phone="+1 415 555 2671", tags=["cobol"])
    other = create("Grace", "Brewster", "brewster@example.com")
    update = contacts_pb2.UpdateContactRequest(
        contact=contacts_pb2.Contact(id=contact.id, last_name="Murrayqz")
    )
    update.update_mask.paths.append("last_name")
    stub.UpdateContact(update, metadata=ADMIN, timeout=10)
    assert search("hopperqz") == [] and search("hoperqz") == []  # the old name and its typo keys are gone
    assert search("murrayqz") == ["Murrayqz"] and search("muraryqz") == ["Murrayqz"]
    assert sorted(search("grace")) == ["Brewster", "Murrayqz"]

    with transaction(runtime.sessions) as session:
        erasure.erase_rows(session, contact.id)
    assert search("grace") == ["Brewster"] and search("murrayqz") == [] and search("4155552671") == []
    terms, keys = search_index.tables.terms, search_index.tables.typo_keys
    with runtime.engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(terms.c.contact_id == contact.id)) == 0
        left = conn.execute(
            select(keys.c.term).where(
                or_(keys.c.term.in_(["murrayqz", "hopperqz", "cobol"]), keys.c.key == "navy")
            )
        ).all()
        assert left == []
        assert conn.scalar(select(func.count()).where(terms.c.contact_id == other.id)) > 0


def test_phone_queries_read_as_the_numbers_they_could_be() -> None:
    assert phone_forms("020 7946 0000", "GB") >= {"02079460000", "442079460000", "2079460000"}
    assert phone_forms("0044 20 7946 0000", "US") >= {"00442079460000", "442079460000"}
    assert parse_query("+1 (415) 555-2671", "US").canonical.startswith("phone:")
    assert parse_query("Ada 2024", "US").canonical == "text:ada 2024"  # letters: not a phone


def test_deferred_typo_keys_are_written_at_the_end_for_words_a_contact_has(create, search, runtime) -> None:
    """An import writing two chunks at once defers its new words' typo keys to the end of each chunk
    (imports/overlap.py): none is written before, then those of the words some contact has, not those
    of a word whose row went (a savepoint rolled back)."""
    contact = create("Zebulonq", "Quarrelq", "zq@example.com")
    terms, keys = search_index.tables.terms, search_index.tables.typo_keys

    def keyed(session, word: str) -> int:
        return session.scalar(select(func.count()).where(keys.c.term == word))

    with transaction(runtime.sessions) as session:
        search_index.defer_typo_keys(session)
        session.execute(terms.insert().values(term="xylophoneq", contact_id=contact.id))
        search_index.add_typo_keys(session, {"xylophoneq", "orphanwordq"})
        assert keyed(session, "xylophoneq") == 0
        search_index.write_deferred_typo_keys(session)
        assert keyed(session, "xylophoneq") > 1 and keyed(session, "orphanwordq") == 0
    assert search("xylophonq") == ["Quarrelq"]  # one letter away: found through the keys
