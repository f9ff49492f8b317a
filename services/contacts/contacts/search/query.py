"""What a `q` asks for: ranked tiers of term ranges. Plain Python, no I/O.

A contact matches a query in the first of these tiers that it meets, and the tiers are the ranking:

0. **prefix**: a term of the contact starts with the whole query (folded like the terms: "smi" finds
   "smith", "ada lov" finds "ada lovelace" and "ada.l@ex" that email); a query that reads as a phone
   number starts a phone term, in each of the forms it could be written in.
1. **all words** (queries of several words): every word of the query starts some term of the contact
   ("acme ada": the company and the first name).
2. **one typo**: with some words of the query replaced by words one letter away that contacts have
   ("smiht" finds "smith"; "jonh smith" finds "john smith"), as a prefix like tier 0.

Within a tier contacts come in the order of the term they matched by, then their id: the exact word
before its longer completions ("smith" before "smithson"), and a stable order for keyset paging (the
cursor is the tier, the term and the id of the last contact of a page).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import phonenumbers

from contacts.search.terms import MAX_TERM_LENGTH, cut, fold, words
from contacts.search.typos import has_typo_keys
from crm_platform.errors import InvalidArgument

MAX_WORDS = 8
# A query of digits and the usual separators, with at least this many digits, is a phone number.
MIN_PHONE_DIGITS = 4
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]*")
# At most this many spellings of a several-word query are tried in the typo tier.
MAX_TYPO_PHRASES = 16


@dataclass(frozen=True, order=True)
class TermRange:
    """Terms from `low` (included) up to `high` (excluded), or exactly `low` when `high` is None."""

    low: str
    high: str | None = None

    def holds(self, term: str) -> bool:
        return term == self.low if self.high is None else self.low <= term < self.high


def starting_with(prefix: str) -> TermRange:
    """Every term that starts with `prefix`: up to the prefix with its last character's successor."""
    prefix = cut(prefix)
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates are not characters a database stores
        last = 0xE000
    return TermRange(prefix, prefix[:-1] + chr(min(last, 0x10FFFF)))


@dataclass(frozen=True)
class Tier:
    """Contacts with a term in one of `ranges` and, for each of `required`, a term in it."""

    ranges: tuple[TermRange, ...]
    required: tuple[TermRange, ...] = ()

    def first_term(self, terms: Collection[str]) -> str | None:
        """The smallest of `terms` by which a contact with these terms is in the tier, or None."""
        if not all(any(r.holds(term) for term in terms) for r in self.required):
            return None
        return min((term for term in terms if any(r.holds(term) for r in self.ranges)), default=None)


@dataclass(frozen=True)
class SearchQuery:
    canonical: str  # what cursors are bound to
    words: tuple[str, ...]
    tiers: tuple[Tier, ...]  # tiers 0 and 1; the typo tier needs the words contacts have (typo_tier)

    def typo_words(self) -> list[str]:
        return sorted({word for word in self.words if has_typo_keys(word)})

    def typo_tier(self, corrections: Mapping[str, list[str]]) -> Tier | None:
        """Tier 2 from the words one letter away from each query word (`corrections`), or None."""
        choices = [[word, *corrections.get(word, [])] for word in self.words]
        phrases = [
            " ".join(spelling)
            for spelling in itertools.islice(itertools.product(*choices), 1, MAX_TYPO_PHRASES + 1)
        ]
        return Tier(tuple(starting_with(phrase) for phrase in phrases)) if phrases else None


def parse_query(q: str, region: str) -> SearchQuery:
    """The tiers of `q`; InvalidArgument (field `q`) when it holds nothing to search for or too many
    words. `region` reads a phone number written without its country code."""
    text = fold(q)
    found = words(q)
    if not found:
        raise InvalidArgument("nothing to search for", {"q": "must hold letters or digits"})
    if len(found) > MAX_WORDS:
        raise InvalidArgument("too many words", {"q": f"must have at most {MAX_WORDS} words"})
    if _PHONE.fullmatch(text) and sum(ch.isdigit() for ch in text) >= MIN_PHONE_DIGITS:
        ranges = tuple(sorted({starting_with(digits) for digits in phone_forms(text, region)}))
        return SearchQuery(f"phone:{','.join(r.low for r in ranges)}", (), (Tier(ranges),))
    phrase = " ".join(found)
    prefixes = {starting_with(phrase)}
    if " " not in text and text != phrase:  # an email or a dotted name, as written
        prefixes.add(starting_with(text))
    tiers = [Tier(tuple(sorted(prefixes)))]
    if len(found) > 1:
        # Driven by the longest word, likely the one with the fewest contacts.
        driver = max(range(len(found)), key=lambda i: (len(found[i]), i))
        others = tuple(starting_with(word) for i, word in enumerate(found) if i != driver)
        tiers.append(Tier((starting_with(found[driver]),), others))
    return SearchQuery(f"text:{text[: MAX_TERM_LENGTH * 2]}", tuple(found), tuple(tiers))


def phone_forms(text: str, region: str) -> set[str]:
    """The digit strings a phone number written as `text` may be stored under: as typed, without an
    international 00, and (when it reads as a number of `region` or carries its country code) in E.164,
    as the national significant number and in national form."""
    digits = "".join(ch for ch in text if ch.isdigit())
    forms = {digits}
    if digits.startswith("00"):
        forms.add(digits[2:])
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return forms
    if phonenumbers.is_possible_number(parsed):
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        forms |= {e164.lstrip("+"), str(parsed.national_number), "".join(c for c in national if c.isdigit())}
    return {form for form in forms if len(form) >= MIN_PHONE_DIGITS}
