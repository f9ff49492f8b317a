"""Small request checks every servicer needs."""

from __future__ import annotations

from crm_platform.errors import InvalidArgument


def required(value: str, field: str) -> str:
    """The stripped value, or INVALID_ARGUMENT naming the field."""
    stripped = value.strip()
    if not stripped:
        raise InvalidArgument(f"{field} is required", {field: "is required"})
    return stripped
