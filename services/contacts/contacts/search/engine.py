"""Reading one page of search results: the ranked tiers of a query (contacts.search.query) walked in
order through the term index, each contact checked against the caller's view as it comes.

Per tier, each term range is read in index order (term, contact id) a chunk at a time and the ranges
are merged, so a page costs the rows read up to its end, not the number of matches: a million
contacts named Smith cost what a hundred do. For each batch of index rows, one query reads the matching
terms of those contacts (the tier's ranges and the earlier tiers': a contact is listed once, at its
first term in its best tier) and one reads the contacts the caller may see among them (`visible`:
active, in scope, passing the filter). At most SCAN_BUDGET index rows are read per page: when the
caller sees few of the matches (a narrow scope, a rare filter), a page can end short with a cursor
where the reading stopped, so that no request reads without bound. The "all words" tier is skipped
when a word starts no term at all, and reads at most CONJUNCTION_SCAN rows of its driving word.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.orm import Session

from contacts.search.query import SearchQuery, TermRange, Tier

# (tier, term, contact id): where a contact is in the results, and what a cursor holds.
Key = tuple[int, str, str]
SCAN_BUDGET = 2000
# The "all words" tier reads at most this many index rows of its driving word (its first ones, in
# order): complete for a distinctive word, a bounded sample for a common one, whose contacts mostly
# reach tier 0 through the whole phrase anyway ("john smith").
CONJUNCTION_SCAN = 500
_FIRST_CHUNK = 64
_MAX_CHUNK = 1000

Visible = Callable[[Sequence[str]], Mapping[str, Any]]
Corrections = Callable[[list[str]], Mapping[str, list[str]]]


def search_page(
    session: Session,
    terms: Table,
    query: SearchQuery,
    *,
    visible: Visible,
    corrections: Corrections,
    after: Key | None,
    limit: int,
) -> tuple[list[Any], Key | None]:
    """Up to `limit` contacts after `after`, best first, and the key to continue from (None: the
    results end here)."""
    found: list[tuple[Key, Any]] = []
    earlier: list[Tier] = []
    budget = SCAN_BUDGET
    for number, tier in _tiers(query, corrections, after):
        if tier is None:
            continue
        if after is not None and number < after[0]:
            earlier.append(tier)
            continue
        position = (after[1], after[2]) if after is not None and number == after[0] else None
        stream = _merged(session, terms, tier.ranges, position)
        if tier.required:
            if any(_empty(session, terms, r) for r in tier.required):  # no contact can be in this tier
                earlier.append(tier)
                continue
            last = _nth_row(session, terms, tier.ranges[0], CONJUNCTION_SCAN)
            if last is not None:
                stream = itertools.takewhile(lambda row, last=last: row <= last, stream)
        while budget > 0:
            # Most rows of a conjunction are turned away: fewer, larger batches for it.
            wanted = CONJUNCTION_SCAN // 2 if tier.required else 2 * (limit + 1 - len(found))
            batch = _take(stream, min(budget, max(wanted, _FIRST_CHUNK)))
            if not batch:
                break
            budget -= len(batch)
            found += _keep(session, terms, batch, number, tier, earlier, visible)
            if len(found) > limit:
                return [row for _key, row in found[:limit]], found[limit - 1][0]
            if budget <= 0:  # read enough for one request: continue after the last row read
                return [row for _key, row in found], (number, *batch[-1])
        earlier.append(tier)
    return [row for _key, row in found], None


def _tiers(
    query: SearchQuery, corrections: Corrections, after: Key | None
) -> Iterator[tuple[int, Tier | None]]:
    yield from enumerate(query.tiers)
    # The typo tier is looked up only when the results get there; its number stays 2 for cursors.
    yield from ((number, None) for number in range(len(query.tiers), 2))
    words = query.typo_words()
    yield 2, query.typo_tier(corrections(words)) if words else None


def _merged(
    session: Session, terms: Table, ranges: Sequence[TermRange], position: tuple[str, str] | None
) -> Iterator[tuple[str, str]]:
    """(term, contact id) of every index row in `ranges` after `position`, in order, each once."""
    streams = [_range_rows(session, terms, r, position) for r in ranges]
    last = None
    for row in heapq.merge(*streams):
        if row != last:
            yield row
            last = row


def _range_rows(
    session: Session, terms: Table, r: TermRange, position: tuple[str, str] | None
) -> Iterator[tuple[str, str]]:
    chunk = _FIRST_CHUNK
    while True:
        statement = select(terms.c.term, terms.c.contact_id).where(_in_range(terms, r))
        if position is not None:
            term, contact_id = position
            # `term >= :term` first: the index range starts there (deep pages cost no more).
            statement = statement.where(
                terms.c.term >= term, or_(terms.c.term > term, terms.c.contact_id > contact_id)
            )
        statement = statement.order_by(terms.c.term, terms.c.contact_id).limit(chunk)
        rows = [(row.term, row.contact_id) for row in session.execute(statement)]
        yield from rows
        if len(rows) < chunk:
            return
        position = rows[-1]
        chunk = min(chunk * 4, _MAX_CHUNK)


def _empty(session: Session, terms: Table, r: TermRange) -> bool:
    return session.execute(select(terms.c.term).where(_in_range(terms, r)).limit(1)).first() is None


def _nth_row(session: Session, terms: Table, r: TermRange, n: int) -> tuple[str, str] | None:
    """The n-th index row of `r` (None when it has fewer): an index-only read of n rows."""
    row = session.execute(
        select(terms.c.term, terms.c.contact_id)
        .where(_in_range(terms, r))
        .order_by(terms.c.term, terms.c.contact_id)
        .offset(n - 1)
        .limit(1)
    ).first()
    return None if row is None else (row.term, row.contact_id)


def _in_range(terms: Table, r: TermRange) -> Any:
    if r.high is None:
        return terms.c.term == r.low
    return and_(terms.c.term >= r.low, terms.c.term < r.high)


def _take(stream: Iterator[tuple[str, str]], count: int) -> list[tuple[str, str]]:
    return [row for row, _ in zip(stream, range(count), strict=False)]


def _keep(
    session: Session,
    terms: Table,
    batch: list[tuple[str, str]],
    number: int,
    tier: Tier,
    earlier: list[Tier],
    visible: Visible,
) -> list[tuple[Key, Any]]:
    """The rows of `batch` that place a contact in the results: its first term in this tier, not in an
    earlier tier, and the caller may see it (in batch order)."""
    ids = list(dict.fromkeys(contact_id for _term, contact_id in batch))
    ranges = [*tier.ranges, *tier.required]
    for other in earlier:
        ranges += [*other.ranges, *other.required]
    held: dict[str, set[str]] = {}
    rows = session.execute(
        select(terms.c.contact_id, terms.c.term).where(
            terms.c.contact_id.in_(ids), or_(*(_in_range(terms, r) for r in ranges))
        )
    )
    for contact_id, term in rows:
        held.setdefault(contact_id, set()).add(term)
    placed = [
        (term, contact_id)
        for term, contact_id in batch
        if tier.first_term(held.get(contact_id, ())) == term
        and not any(other.first_term(held.get(contact_id, ())) is not None for other in earlier)
    ]
    if not placed:
        return []
    seen = visible([contact_id for _term, contact_id in placed])
    return [
        ((number, term, contact_id), seen[contact_id]) for term, contact_id in placed if contact_id in seen
    ]
