"""The merged record, from the survivor, the sources and the caller's per-field choices. Plain Python on
contract messages (Contact, Company), no I/O: what a merge writes and what a dry run shows.

- A single-valued field the caller chose (`field_choices`: field -> record id) takes that record's value,
  empty or not.
- One not chosen keeps the survivor's value; where the survivor has none, the first source (in the order
  given) that has one fills the gap.
- A list field (`Policy.unioned`) holds every entry of every record once, the survivor's first, then each
  source's in order; a source's entry is never primary (the primary entry is the survivor's, or the one
  whose value the chosen single field names: `Policy.primaries`).
- A keyed field (`Policy.keyed`: custom fields) holds every key of every record, each with the
  survivor's value, or the first source's that has the key.
- Fixed fields (ids, times, etag, ownership) stay the survivor's and cannot be chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from crm_platform.errors import InvalidArgument

M = TypeVar("M", bound=Message)

CHOICES = "field_choices"
# What no merge changes: the record's identity, its clock and who it belongs to.
FIXED = frozenset(
    {"id", "etag", "created_at", "updated_at", "archived_at", "owner_id", "team_id", "partner_account_id"}
)


@dataclass(frozen=True)
class Policy:
    """How a resource's fields merge: which are fixed and which are lists (entries unioned); every other
    field is a single value the caller may choose. `primaries`: a list whose entries have a `primary`
    flag and the single field holding the primary entry's `key` (emails: "email" holds the address)."""

    fixed: frozenset[str] = FIXED
    unioned: frozenset[str] = frozenset()
    primaries: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # list -> (single field, key)
    # Entry keys for deduplicating a list of messages (default: the whole entry, `primary` aside).
    keys: Mapping[str, str] = field(default_factory=dict)
    # Struct fields merged per key (custom fields): the survivor's value of each key, gaps filled from
    # the sources in order.
    keyed: frozenset[str] = frozenset()


def _has_value(message: Message, descriptor: FieldDescriptor) -> bool:
    if descriptor.message_type is not None and not descriptor.is_repeated:
        return message.HasField(descriptor.name)
    return bool(getattr(message, descriptor.name))


def _copy_value(target: Message, source: Message, descriptor: FieldDescriptor) -> None:
    name = descriptor.name
    if descriptor.message_type is not None and not descriptor.is_repeated:
        if source.HasField(name):
            getattr(target, name).CopyFrom(getattr(source, name))
        else:
            target.ClearField(name)
    else:
        setattr(target, name, getattr(source, name))


def check_choices(
    choices: Mapping[str, str], descriptor: Any, policy: Policy, record_ids: Sequence[str]
) -> None:
    """INVALID_ARGUMENT naming each choice of a field that cannot be chosen or of a record that is not
    in the merge."""
    errors: dict[str, str] = {}
    for name, record_id in choices.items():
        target = descriptor.fields_by_name.get(name)
        if target is None:
            errors[f"{CHOICES}.{name}"] = f"is not a field of {descriptor.name}"
        elif name in policy.fixed or name in policy.unioned or name in policy.keyed:
            why = "stays the survivor's" if name in policy.fixed else "holds every record's entries"
            errors[f"{CHOICES}.{name}"] = f"cannot be chosen: it {why}"
        elif record_id not in record_ids:
            errors[f"{CHOICES}.{name}"] = f"names {record_id!r}, which is neither the survivor nor a source"
    if errors:
        raise InvalidArgument("invalid field choices", errors)


def _entry_key(entry: Any, key: str) -> Any:
    if isinstance(entry, Message):
        if key:
            return str(getattr(entry, key)).lower()
        copy = type(entry)()
        copy.CopyFrom(entry)
        if "primary" in copy.DESCRIPTOR.fields_by_name:
            copy.primary = False
        return copy.SerializeToString(deterministic=True)
    return entry


def _union(target: Message, records: Sequence[Message], name: str, key: str) -> None:
    """`target.name` := every record's entries once (by key), in record order; only the first record's
    (the survivor's) keep their primary flag."""
    seen: set[Any] = set()
    entries: list[Any] = []
    for index, record in enumerate(records):
        for entry in getattr(record, name):
            entry_key = _entry_key(entry, key)
            if entry_key in seen:
                continue
            seen.add(entry_key)
            if isinstance(entry, Message):
                copy = type(entry)()
                copy.CopyFrom(entry)
                if index > 0 and "primary" in copy.DESCRIPTOR.fields_by_name:
                    copy.primary = False
                entries.append(copy)
            else:
                entries.append(entry)
    repeated = getattr(target, name)
    del repeated[:]
    repeated.extend(entries)


def _union_keys(target: Message, records: Sequence[Message], name: str) -> None:
    """`target.name` (a Struct) := every key of every record, each with the first record's value that has
    the key (the survivor's first)."""
    values: dict[str, Any] = {}
    for record in records:
        for key, value in getattr(record, name).fields.items():
            values.setdefault(key, value)
    struct = getattr(target, name)
    struct.Clear()
    for key, value in values.items():
        struct.fields[key].CopyFrom(value)


def _mark_primary(target: Message, name: str, single: str, key: str) -> None:
    """The entry whose key is the single field's value becomes the list's one primary entry."""
    value = str(getattr(target, single)).lower()
    entries = getattr(target, name)
    if not value or not any(str(getattr(e, key)).lower() == value for e in entries):
        return
    for entry in entries:
        entry.primary = str(getattr(entry, key)).lower() == value


def merge_records(survivor: M, sources: Sequence[M], choices: Mapping[str, str], policy: Policy) -> M:
    """The survivor as it would be after taking in `sources` (see the module docstring), before the
    domain's rules (which the update applies)."""
    by_id = {record.id: record for record in (survivor, *sources)}  # type: ignore[attr-defined]
    check_choices(choices, survivor.DESCRIPTOR, policy, list(by_id))
    merged = type(survivor)()
    merged.CopyFrom(survivor)
    for descriptor in survivor.DESCRIPTOR.fields:
        name = descriptor.name
        if name in policy.fixed:
            continue
        if name in policy.unioned:
            _union(merged, [survivor, *sources], name, policy.keys.get(name, ""))
            continue
        if name in policy.keyed:
            _union_keys(merged, [survivor, *sources], name)
            continue
        if name in choices:
            _copy_value(merged, by_id[choices[name]], descriptor)
        elif not _has_value(survivor, descriptor):
            donor = next((s for s in sources if _has_value(s, descriptor)), None)
            if donor is not None:
                _copy_value(merged, donor, descriptor)
    for name, (single, key) in policy.primaries.items():
        _mark_primary(merged, name, single, key)
    return merged
