"""What a contact is found by: the terms of its search document. Plain Python, no I/O.

Every term is normalised the same way as a query is (`fold`): case-folded, accents dropped, so "Zoë"
is found by "zoe". A contact's terms are:

- each word of its names, company and tags, and each of those values whole ("ada lovelace",
  "lovelace ada", "acme widgets"), so that a query of several words is one prefix of one term;
- each email address whole ("ada.l@example.com") and its domain ("example.com");
- each phone number's digits as people write them: E.164 without the plus ("442079460000"), the
  national significant number ("2079460000") and the national form with its trunk prefix
  ("02079460000"), so "+44 20 7946 0000", "020 7946 0000" and "2079460000" all find it.

Terms are cut to MAX_TERM_LENGTH characters; a query longer than that is cut the same way.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import phonenumbers

MAX_TERM_LENGTH = 100
# Letters and digits: what a word is made of, in documents and queries alike.
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Case-folded, without accents (NFKD, combining marks dropped), whitespace collapsed."""
    if text.isascii():  # most names and every email: the same result, ten times faster
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


def words(text: str) -> list[str]:
    """The words of `text`, folded."""
    return _WORD.findall(fold(text))


def cut(term: str) -> str:
    return term[:MAX_TERM_LENGTH]


def phone_terms(number: str) -> set[str]:
    """The digit strings a stored phone number is found by: its digits (E.164 without the plus), the
    national significant number and that with the country's trunk prefix (the "0" of "020 7946 0000").
    From the country code's metadata rather than by formatting the number, which costs ten times more
    on every write. A number kept as written (never read as valid) is found by its digits."""
    digits = "".join(ch for ch in number if ch.isdigit())
    found = {digits} if digits else set()
    if not number.startswith("+"):
        return found
    for size in (1, 2, 3):
        prefix = _trunk_prefix(int(digits[:size] or 0))
        if prefix is not None:
            national = digits[size:]
            found |= {national, prefix + national}
            break
    return {term for term in found if term}


@functools.cache
def _trunk_prefix(country_code: int) -> str | None:
    """The national (trunk) prefix of a country calling code ("" when it has none); None when the code
    is no country's."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0])
    return (metadata.national_prefix if metadata is not None else None) or ""


def _value_terms(value: str | None) -> set[str]:
    """A name, company or tag: each word, and the whole value when it has several."""
    parts = words(value or "")
    return {*parts, " ".join(parts)} if parts else set()


def document_terms(contact: Any) -> set[str]:
    """The terms of a contact row (the `contacts` columns: names, company, email, phone and the JSON
    lists emails, phones, tags)."""
    first, last = words(contact.first_name or ""), words(contact.last_name or "")
    terms = _value_terms(contact.first_name) | _value_terms(contact.last_name)
    if first and last:
        terms |= {" ".join(first + last), " ".join(last + first)}
    terms |= _value_terms(contact.company)
    for tag in contact.tags or ():
        terms |= _value_terms(tag)
    for address in _entries(contact.emails, "address", contact.email):
        address = fold(address)
        terms |= {address, address.rpartition("@")[2]}
    for number in _entries(contact.phones, "number", contact.phone):
        terms |= phone_terms(number)
    return {cut(term) for term in terms if term}


def _entries(entries: Iterable[Mapping[str, Any]] | None, key: str, primary: str | None) -> set[str]:
    found = {str(entry.get(key)) for entry in entries or () if entry.get(key)}
    return found | {primary} if primary else found
