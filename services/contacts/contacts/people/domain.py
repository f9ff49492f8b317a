"""The rules of a contact's profile. Plain Python, no I/O.

The contract's field rules (crm/contacts/v1/contacts.proto: lengths, patterns, enum values) have already
been checked when these run; what is here normalises the profile (trims, lower-cases emails and tags,
upper-cases countries, puts phone numbers in E.164, puts each list's primary entry first) and checks what a
pattern cannot: a phone number is a real number, a country an assigned ISO 3166-1 code, a time zone an
IANA one, a language a well-formed BCP 47 tag, a date a real date (and a birth date not in the future).

`clean_profile` works on any message with the profile's fields (a Contact, a CreateContactRequest), in
place, and raises one InvalidArgument naming every bad field (`phones[1].number`, `country`) at once.

Primary entries: exactly one email, phone and address is primary when the list is not empty (none marked:
the first; several marked: an error). `email` and `phone` are the primary email and phone: a written
`email` makes the entry that has that address the primary, or else replaces the address of the entry
marked primary (a stored list always has one), or else is added in front as the primary; a written
`emails` list (and `email` left as it was) gives `email` its primary. Likewise `phone` and `phones` (an
emptied `phone` removes the primary number, and the next one becomes primary).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers

from contacts.domain import normalise_email
from crm.contacts.v1 import contacts_pb2
from crm_platform.errors import InvalidArgument

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254

# BCP 47 (RFC 5646) well-formed tags, read case-insensitively: language (with up to three extended
# subtags), script, region, variants, extensions, private use. Grandfathered irregular tags are refused.
_BCP47 = re.compile(
    r"^(?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|[0-9]{3}))?"
    r"(?P<rest>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[a-wyz0-9](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?)$"
)


@dataclass(frozen=True)
class Written:
    """Which of the primary-bearing fields the caller wrote (on create: gave a value; on update: named in
    the mask with a new value), deciding which side wins when `email` and `emails` (or `phone` and
    `phones`) disagree."""

    email: bool = False
    emails: bool = False
    phone: bool = False
    phones: bool = False


# --- single values -----------------------------------------------------------------------------------


# Parsing and validating a number is most of what cleaning a contact costs (~50 µs), and an import
# reads the same numbers again (a file imported twice, a switchboard shared by a company's people): the
# answers are pure functions of the text, so they are remembered per distinct input.
_PHONES_REMEMBERED = 65_536
# phonenumbers compiles its metadata's patterns through the `re` module's cache (512 entries), which the
# rest of the process shares: validating and formatting a number uses enough patterns to push each
# other out, so by default a number recompiles several. Keeping them (a bounded set: the metadata's) made
# a new number ~20% cheaper here, and up to 5x where other code fills the `re` cache in between. (The
# switch is in the locked release, 9.0.43; a release without it just compiles as before.)
if (_keep_patterns := getattr(phonenumbers.re_util, "enable_pattern_cache", None)) is not None:
    _keep_patterns()


@lru_cache(maxsize=_PHONES_REMEMBERED)
def phone_in_e164(number: str, region: str) -> tuple[str, str] | None:
    """(E.164, international format) of a phone number written in any usual form (national numbers read
    as `region`'s), or None when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return (
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
    )


# A contact without numbers yet (a create): `clean_profile`'s default `known_numbers`.
NO_NUMBERS: Mapping[str, str] = MappingProxyType({})


@lru_cache(maxsize=_PHONES_REMEMBERED)
def formatted_phone(e164: str) -> str:
    """The international format of a stored number (itself when it cannot be read, e.g. a number kept
    from before numbers were validated)."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def canonical_language(tag: str) -> str | None:
    """A well-formed BCP 47 tag in its canonical case ("de-CH", "zh-Hant-TW"), or None."""
    match = _BCP47.match(tag.strip().replace("_", "-").lower())
    if match is None:
        return None
    parts = [match["language"]]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts) + match["rest"]


@cache
def _time_zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def canonical_time_zone(name: str) -> str | None:
    """The IANA name of a time zone, matched case-insensitively ("europe/berlin" -> "Europe/Berlin"), or
    None when there is no such zone."""
    name = name.strip()
    known = _time_zones()
    if known:
        return known.get(name.lower())
    try:  # no time zone list on this system: whatever zoneinfo can load
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def real_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def country_error(country: str) -> str | None:
    # Imported here: contacts.companies imports the contacts store, which imports this module.
    from contacts.companies.domain import ISO_COUNTRIES

    if country and country not in ISO_COUNTRIES:
        return "is not an ISO 3166-1 alpha-2 country code"
    return None


def clean_words(values: Iterable[str], *, lower: bool = False) -> list[str]:
    """Trimmed (and lower-cased), empties dropped, each once, in the order first given."""
    seen: dict[str, None] = {}
    for value in values:
        value = " ".join(value.split())
        if lower:
            value = value.lower()
        if value:
            seen.setdefault(value, None)
    return list(seen)


# --- the whole profile --------------------------------------------------------------------------------


def clean_profile(
    target: Any,
    *,
    written: Written,
    region: str,
    known_numbers: Mapping[str, str] = NO_NUMBERS,
    today: date | None = None,
) -> None:
    """Normalise the profile of `target` (a Contact or a CreateContactRequest) in place; InvalidArgument
    naming every bad field. `known_numbers`: phone numbers the contact already has -> their stored
    formatting ("" when none is stored), kept as they are (numbers stored before they were validated stay
    until changed; an unchanged number is not parsed again). `email` must already be normalised
    (contacts.domain.validate_new_contact)."""
    errors: dict[str, str] = {}
    today = today or date.today()
    _emails(target, written, errors)
    _phones(target, written, region, known_numbers, errors)
    _addresses(target, errors)
    _social_profiles(target, errors)
    for name in ("job_title", "preferred_contact_time", "lead_source", "industry", "occupation", "region"):
        setattr(target, name, " ".join(getattr(target, name).split()))
    target.city = " ".join(target.city.split())
    target.notes = target.notes.strip()
    target.country = target.country.strip().upper()
    if (problem := country_error(target.country)) is not None:
        errors["country"] = problem
    if target.language:
        language = canonical_language(target.language)
        if language is None:
            errors["language"] = 'is not a BCP 47 language tag (e.g. "en", "de-CH")'
        else:
            target.language = language
    if target.time_zone:
        zone = canonical_time_zone(target.time_zone)
        if zone is None:
            errors["time_zone"] = 'is not an IANA time zone (e.g. "Europe/Berlin")'
        else:
            target.time_zone = zone
    if target.birth_date:
        born = real_date(target.birth_date)
        if born is None:
            errors["birth_date"] = "is not a real date (YYYY-MM-DD)"
        elif born > today:
            errors["birth_date"] = "must not be in the future"
    for index, important in enumerate(target.important_dates):
        important.label = " ".join(important.label.split())
        if real_date(important.date) is None:
            errors[f"important_dates[{index}].date"] = "is not a real date (YYYY-MM-DD)"
    for index, membership in enumerate(target.memberships):
        membership.name = " ".join(membership.name.split())
        membership.member_number = membership.member_number.strip()
        if not membership.name:
            errors[f"memberships[{index}].name"] = "is required"
        if membership.since:
            since = real_date(membership.since)
            if since is None:
                errors[f"memberships[{index}].since"] = "is not a real date (YYYY-MM-DD)"
            elif since > today:
                errors[f"memberships[{index}].since"] = "must not be in the future"
    _replace(target.hobbies, clean_words(target.hobbies))
    _replace(target.interests, clean_words(target.interests))
    _replace(target.tags, clean_words(target.tags, lower=True))
    if errors:
        raise InvalidArgument("invalid contact", errors)


def _replace(repeated: Any, values: Sequence[Any]) -> None:
    values = list(values)
    del repeated[:]
    repeated.extend(values)


def _primary_index(
    entries: Sequence[Any], name: str, errors: dict[str, str], *, key: Callable[[Any], str]
) -> tuple[int, bool]:
    """The index of the list's one primary entry (none marked: the first; -1 for an empty list) and
    whether it was marked, noting duplicates (by `key`) and a second primary as errors."""
    seen: dict[str, int] = {}
    primary = -1
    for index, entry in enumerate(entries):
        value = key(entry)
        if value in seen:
            errors.setdefault(f"{name}[{index}]", f"repeats {name}[{seen[value]}]")
        seen.setdefault(value, index)
        if entry.primary:
            if primary >= 0:
                errors.setdefault(f"{name}[{index}].primary", f"only one of {name} can be primary")
            else:
                primary = index
    if primary >= 0:
        return primary, True
    return (0 if entries else -1), False


def _primary_first(repeated: Any, primary: int) -> None:
    """Mark entry `primary` (alone) as primary and move it to the front, the others keeping their order."""
    if primary <= 0 and all(entry.primary == (index == primary) for index, entry in enumerate(repeated)):
        return  # already so (most lists: none, or one primary entry)
    entries = [type(entry)() for entry in repeated]
    for copy, entry in zip(entries, repeated, strict=True):
        copy.CopyFrom(entry)
        copy.primary = False
    if primary >= 0:
        entries[primary].primary = True
        entries.insert(0, entries.pop(primary))
    _replace(repeated, entries)


def _emails(target: Any, written: Written, errors: dict[str, str]) -> None:
    entries = target.emails
    for index, entry in enumerate(entries):
        entry.address = normalise_email(entry.address)
        if len(entry.address) > MAX_EMAIL_LENGTH or not _EMAIL.match(entry.address):
            errors[f"emails[{index}].address"] = "is not a valid email address"
    primary, marked = _primary_index(entries, "emails", errors, key=lambda e: e.address)
    email = target.email
    addresses = [entry.address for entry in entries]
    if email and (written.email or not written.emails or primary < 0):
        if email in addresses:
            primary = addresses.index(email)
        elif marked:  # a new primary address: it replaces the old one
            entries[primary].address = email
        else:
            entries.insert(0, contacts_pb2.ContactEmail(address=email, primary=True))
            primary = 0
    _primary_first(entries, primary)
    if len(entries):
        target.email = entries[0].address


def _phones(
    target: Any, written: Written, region: str, known: Mapping[str, str], errors: dict[str, str]
) -> None:
    entries = target.phones
    for index, entry in enumerate(entries):
        entry.number = entry.number.strip()
        if not entry.number:
            errors[f"phones[{index}].number"] = "is required"
        elif entry.number in known:
            entry.formatted = _known_formatting(known, entry.number)
        elif (normal := phone_in_e164(entry.number, region)) is None:
            errors[f"phones[{index}].number"] = "is not a valid phone number"
        else:
            entry.number, entry.formatted = normal
    primary, marked = _primary_index(entries, "phones", errors, key=lambda p: p.number)
    phone = target.phone.strip()
    if written.phone or (phone and primary < 0):
        if not phone:
            if primary >= 0:
                del entries[primary]
                primary = 0 if len(entries) else -1
        else:
            # A number read once: parsing is most of what cleaning a new contact costs.
            if phone in known:
                formatted = _known_formatting(known, phone)
            else:
                normal = phone_in_e164(phone, region)
                if normal is None:
                    errors["phone"] = "is not a valid phone number"
                    return
                phone, formatted = normal
            numbers = [entry.number for entry in entries]
            if phone in numbers:
                primary = numbers.index(phone)
            elif marked:  # a new primary number: it replaces the old one
                entries[primary].number, entries[primary].formatted = phone, formatted
            else:
                entries.insert(0, contacts_pb2.ContactPhone(number=phone, formatted=formatted, primary=True))
                primary = 0
    _primary_first(entries, primary)
    target.phone = entries[0].number if len(entries) else ""


def _known_formatting(known: Mapping[str, str], number: str) -> str:
    """A number the contact has, as stored; formatted afresh only where nothing was stored."""
    return known[number] or formatted_phone(number)


def _addresses(target: Any, errors: dict[str, str]) -> None:
    entries = target.addresses
    for index, address in enumerate(entries):
        address.street = " ".join(address.street.split())
        address.city = " ".join(address.city.split())
        address.region = " ".join(address.region.split())
        address.postal_code = " ".join(address.postal_code.split()).upper()
        address.country = address.country.strip().upper()
        if (problem := country_error(address.country)) is not None:
            errors[f"addresses[{index}].country"] = problem
        if not any((address.street, address.city, address.region, address.postal_code, address.country)):
            errors[f"addresses[{index}]"] = "is empty: give at least a street, city, postal code or country"
    primary, _marked = _primary_index(
        entries,
        "addresses",
        errors,
        key=lambda a: "\x00".join((a.street, a.city, a.region, a.postal_code, a.country)),
    )
    _primary_first(entries, primary)


def _social_profiles(target: Any, errors: dict[str, str]) -> None:
    for index, profile in enumerate(target.social_profiles):
        profile.network = " ".join(profile.network.split()).lower()
        profile.handle = profile.handle.strip()
        profile.url = profile.url.strip()
        if not profile.network:
            errors[f"social_profiles[{index}].network"] = "is required"
        if not profile.handle and not profile.url:
            errors[f"social_profiles[{index}].handle"] = "give a handle, a url or both"
