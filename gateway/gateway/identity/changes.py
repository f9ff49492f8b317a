"""What a PATCH changes on a row, noted as {field: {"from": old, "to": new}} for its audit event."""

from __future__ import annotations


def apply_change(
    changes: dict[str, object], row: object, attribute: str, new: object, field: str | None = None
) -> None:
    """Sets `row.<attribute>` to `new` unless `new` is None (the field was left out of the body) or equal
    to what is there, and notes the change under `field` (the attribute's name unless the API calls it
    otherwise, as `active` for `is_active`)."""
    old = getattr(row, attribute)
    if new is None or new == old:
        return
    changes[field or attribute] = {"from": old, "to": new}
    setattr(row, attribute, new)
