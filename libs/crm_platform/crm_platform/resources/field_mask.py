"""Partial updates: a resource's current state + a partial resource + the field mask -> the merged
resource, checked against the contract, and what changed.

Semantics (AIP-134, with one deliberate difference):
- every masked field takes the partial resource's value, including "no value" (a masked field left unset
  in the partial resource is cleared); fields not in the mask keep theirs;
- a path may name a field of a nested message (`address.city`); a path naming a field the resource does
  not have, or an output-only one (`google.api.field_behavior = OUTPUT_ONLY`, and `etag`, which is the
  precondition rather than data), is INVALID_ARGUMENT on `update_mask`;
- an empty mask is INVALID_ARGUMENT ("update_mask is required"), not AIP-134's "replace everything": a
  gRPC caller who forgets the mask would otherwise wipe every field they did not send, and the gateway
  always derives a mask from the fields present in a PATCH body, so REST clients never send an empty one.
The merged resource is validated against the `buf.validate` rules declared on the resource message (the
server interceptor leaves an Update's partial resource alone); violations are reported relative to the
request (`contact.email`), as for any other request field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from crm_platform import protojson
from crm_platform.errors import InvalidArgument
from crm_platform.resources.history import FieldChange
from crm_platform.validation import contract_violations

M = TypeVar("M", bound=Message)

UPDATE_MASK = "update_mask"
# Never data: the etag is the update's precondition (AIP-154), the others are the server's to set.
ALWAYS_OUTPUT_ONLY = frozenset({"etag"})


def is_output_only(field: FieldDescriptor) -> bool:
    behaviors = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    return field_behavior_pb2.OUTPUT_ONLY in behaviors or field.name in ALWAYS_OUTPUT_ONLY


def writable_fields(descriptor: Descriptor) -> list[str]:
    """The top-level fields a client may set: every field that is not output-only."""
    return list(_writable(descriptor))


@functools.cache
def _writable(descriptor: Descriptor) -> tuple[str, ...]:
    # Per descriptor once: reading every field's options cost ~35 µs per create's history entry.
    return tuple(field.name for field in descriptor.fields if not is_output_only(field))


# Per (resource, path): an import checks the same few paths on every row (~35 µs a row). Bounded, since
# a caller may send any number of distinct bad paths.
@functools.lru_cache(maxsize=4096)
def _path_error(descriptor: Descriptor, path: str) -> str | None:
    """What is wrong with one mask path, or None."""
    current: Descriptor | None = descriptor
    parts = path.split(".")
    for depth, name in enumerate(parts):
        field = current.fields_by_name.get(name) if current is not None else None
        if field is None:
            return f"{path!r} is not a field of {descriptor.name}"
        if is_output_only(field):
            return f"{path!r} is output only and cannot be changed"
        if depth < len(parts) - 1 and (
            field.message_type is None or field.is_repeated or field.message_type.GetOptions().map_entry
        ):
            return f"{path!r} goes inside a field that is not a single message"
        current = field.message_type
    return None


def check_mask(descriptor: Descriptor, paths: Sequence[str]) -> None:
    """INVALID_ARGUMENT on `update_mask` for an empty mask or any path that cannot be updated."""
    if not paths:
        raise InvalidArgument(
            "update_mask is required", {UPDATE_MASK: "is required: name the fields to change"}
        )
    errors = [error for path in paths if (error := _path_error(descriptor, path)) is not None]
    if errors:
        raise InvalidArgument(
            "update_mask names fields that cannot be updated", {UPDATE_MASK: "; ".join(errors)}
        )


def _merge_path(source: Message, destination: Message, parts: list[str]) -> None:
    name = parts[0]
    field = destination.DESCRIPTOR.fields_by_name[name]
    if len(parts) > 1:
        _merge_path(getattr(source, name), getattr(destination, name), parts[1:])
        return
    if field.is_repeated:  # repeated fields and maps are replaced as a whole
        destination.ClearField(name)
        getattr(destination, name).MergeFrom(getattr(source, name))
    elif field.message_type is not None:
        destination.ClearField(name)
        if source.HasField(name):
            getattr(destination, name).CopyFrom(getattr(source, name))
    elif field.has_presence and not source.HasField(name):
        destination.ClearField(name)
    else:
        setattr(destination, name, getattr(source, name))


def _prefixed(fields: dict[str, str], prefix: str) -> dict[str, str]:
    if not prefix:
        return fields
    return {(prefix if name == "(message)" else f"{prefix}.{name}"): text for name, text in fields.items()}


@dataclass(frozen=True)
class MergedUpdate(Generic[M]):
    message: M
    changes: list[FieldChange]

    @property
    def changed_fields(self) -> list[str]:
        return [change.field for change in self.changes]


def merge_update(
    current: M,
    partial: M,
    paths: Sequence[str],
    *,
    request_field: str = "",
    prepare: Callable[[M], None] | None = None,
) -> MergedUpdate[M]:
    """The merged resource and its changed top-level fields (old -> new, as JSON values).

    `prepare(merged)` applies the service's own rules after the contract's: it may normalise the merged
    message in place (trim, lower-case) and raise InvalidArgument naming resource fields. Field names in
    errors are prefixed with `request_field` (the request's field holding the resource).
    """
    check_mask(current.DESCRIPTOR, paths)
    merged = type(current)()
    merged.CopyFrom(current)
    for path in paths:
        _merge_path(partial, merged, path.split("."))
    violations = contract_violations(merged)
    if violations:
        raise InvalidArgument(
            "the request breaks the contract's field rules", _prefixed(violations, request_field)
        )
    if prepare is not None:
        try:
            prepare(merged)
        except InvalidArgument as error:
            raise InvalidArgument(error.message, _prefixed(error.fields, request_field)) from None
    # Compared field by field over everything writable rather than just the mask, so the record is
    # honest even if `prepare` normalised an unmasked field. A field that holds the same value (and
    # presence) encodes the same, so only the others are compared as JSON: an update that changes
    # nothing (an import's unchanged row) encodes nothing.
    differing = [name for name, same in _comparisons(current.DESCRIPTOR) if not same(current, merged)]
    if not differing:
        return MergedUpdate(merged, [])
    before, after = protojson.encode(current), protojson.encode(merged)
    changes = [
        FieldChange(name, before[name], after[name]) for name in differing if before[name] != after[name]
    ]
    return MergedUpdate(merged, changes)


Same = Callable[[Message, Message], bool]


@functools.cache
def _comparisons(descriptor: Descriptor) -> tuple[tuple[str, Same], ...]:
    """Per writable field, in order: whether two messages hold the same in it (presence included)."""
    return tuple((field.name, _same(field)) for field in descriptor.fields if not is_output_only(field))


def _same(field: FieldDescriptor) -> Same:
    name = field.name
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return lambda a, b: dict(getattr(a, name)) == dict(getattr(b, name))
    if field.has_presence and not field.is_repeated:
        return lambda a, b: a.HasField(name) == b.HasField(name) and getattr(a, name) == getattr(b, name)
    return lambda a, b: bool(getattr(a, name) == getattr(b, name))
