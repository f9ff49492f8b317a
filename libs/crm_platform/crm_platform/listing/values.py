"""Filter literals to Python values of a field's type, refusing what the column could not hold.

Range checks matter: an integer beyond 64 bits makes SQLite's driver raise OverflowError, a float that
overflows to infinity compares oddly, and a timestamp without an offset is ambiguous. All of them are the
caller's mistake and must come back as InvalidArgument rather than a 500.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone

from crm_platform.errors import InvalidArgument
from crm_platform.listing.fields import Field
from crm_platform.listing.invalid import filter_error, quoted
from crm_platform.listing.syntax import Boolean, Number, String, Value

_INT64 = 2**63
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))"
)


def describe(value: Value) -> str:
    """How a message names a literal: the way it was written, more or less."""
    if isinstance(value, String):
        return quoted(value.text)
    if isinstance(value, Number):
        return value.text
    if isinstance(value, Boolean):
        return "true" if value.value else "false"
    return "null"


def mismatch(value: Value, expected: str, name: str, hint: str = "") -> InvalidArgument:
    return filter_error(
        f"{describe(value)} is not a valid {expected} for {name} at position {value.position}{hint}"
    )


def as_string(value: Value, name: str) -> String:
    if not isinstance(value, String):
        raise mismatch(value, "string", name, " (quote it)")
    return value


def as_int(value: Value, name: str) -> int:
    if not isinstance(value, Number) or not value.text.lstrip("-").isdigit():
        raise mismatch(value, "integer", name)
    number = int(value.text)
    if not -_INT64 <= number < _INT64:
        raise mismatch(value, "integer", name, " (out of the 64-bit range)")
    return number


def as_float(value: Value, name: str) -> float:
    if not isinstance(value, Number):
        raise mismatch(value, "number", name)
    number = float(value.text)
    if not math.isfinite(number):
        raise mismatch(value, "number", name, " (out of range)")
    return number


def as_bool(value: Value, name: str) -> bool:
    if not isinstance(value, Boolean):
        raise mismatch(value, "boolean", name, " (use true or false)")
    return value.value


def as_enum(value: Value, field: Field, name: str) -> str:
    """Enum values are their lower-case names; upper case is accepted too (AIP-160 habit: `kind = PERSON`)."""
    allowed = ", ".join(sorted(field.enum_values))
    if not isinstance(value, String) or value.has_wildcard or value.text.lower() not in field.enum_values:
        raise mismatch(value, "value", name, f"; allowed values: {allowed}")
    return value.text.lower()


def as_date(value: Value, name: str) -> str:
    """A calendar date written "YYYY-MM-DD", checked to exist, in that (ordering) spelling."""
    hint = ' (a date written "YYYY-MM-DD")'
    if not isinstance(value, String) or value.has_wildcard or not _DATE.fullmatch(value.text):
        raise mismatch(value, "date", name, hint)
    try:
        return date.fromisoformat(value.text).isoformat()
    except ValueError:
        raise mismatch(value, "date", name, hint) from None


def as_timestamp(value: Value, name: str) -> datetime:
    """An RFC 3339 date-time with an offset (`2026-01-01T00:00:00Z`), as an aware UTC datetime.

    Sub-microsecond digits are accepted only when they are zeros (protobuf's JSON writes nanoseconds):
    the columns hold microseconds, and rounding a bound would make `>` and `>=` wrong at the edge.
    """
    if not isinstance(value, String) or value.has_wildcard:
        raise mismatch(value, "timestamp", name, ' (an RFC 3339 string, e.g. "2026-01-01T00:00:00Z")')
    match = _RFC3339.fullmatch(value.text)
    hint = ' (RFC 3339 with an offset, e.g. "2026-01-01T00:00:00Z")'
    if not match:
        raise mismatch(value, "timestamp", name, hint)
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    fraction = fraction or ""
    if fraction[6:].strip("0"):
        raise mismatch(value, "timestamp", name, " (more precise than microseconds)")
    try:
        offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0))
        if offset >= timedelta(hours=24):
            raise ValueError("offset out of range")
        zone = timezone(-offset if sign == "-" else offset)
        local = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(fraction[:6].ljust(6, "0")),
            tzinfo=zone,
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        raise mismatch(value, "timestamp", name, hint) from None
