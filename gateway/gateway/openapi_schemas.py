"""JSON Schemas of protobuf messages, exactly as `crm_platform.protojson` reads and writes them.

Two forms per message, because the API reads and writes different things:
- the **output** form (`contacts.v1.Contact`): every field is present; a field that can be "no value"
  (message, empty string, unspecified enum, unset optional) is nullable; output-only fields are marked
  `readOnly`;
- the **input** form (`contacts.v1.ContactInput`): no unknown properties; `required` from
  `google.api.field_behavior = REQUIRED`; the contract's `buf.validate` rules as minLength, maxLength,
  pattern, format, minimum/maximum, minItems/maxItems; null is accepted where a value is optional.
Descriptions come from the proto comments.
"""

from __future__ import annotations

from typing import Any

from buf.validate import validate_pb2
from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from crm_platform import protojson

Schema = dict[str, Any]

_INTEGER_FORMATS = {
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_SINT32: "int32",
    FieldDescriptor.TYPE_SFIXED32: "int32",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_SINT64: "int64",
    FieldDescriptor.TYPE_SFIXED64: "int64",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_FIXED32: "uint32",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_FIXED64: "uint64",
}
_NUMERIC_RULES = ("int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64",
                  "sfixed32", "sfixed64", "double", "float")  # fmt: skip
_WELL_KNOWN: dict[str, Schema] = {
    protojson.TIMESTAMP: {"type": "string", "format": "date-time"},
    protojson.DURATION: {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?s$"},
    protojson.FIELD_MASK: {"type": "string", "description": "comma-separated field names"},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Value": {},
    protojson.EMPTY: {"type": "object"},
}


def schema_name(descriptor: Descriptor, *, output: bool) -> str:
    base = descriptor.full_name.removeprefix("crm.")
    return base if output else f"{base}Input"


def behaviours(field: FieldDescriptor) -> set[int]:
    return set(field.GetOptions().Extensions[field_behavior_pb2.field_behavior])


def is_output_only(field: FieldDescriptor) -> bool:
    return field_behavior_pb2.OUTPUT_ONLY in behaviours(field)


def is_required(field: FieldDescriptor) -> bool:
    rules = field.GetOptions().Extensions[validate_pb2.field]
    return field_behavior_pb2.REQUIRED in behaviours(field) or rules.required


def _nullable(schema: Schema) -> Schema:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if not schema:
        return schema  # any JSON value, null included
    kind = schema.get("type")
    if isinstance(kind, str):
        schema = {**schema, "type": [kind, "null"]}
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _rules(field: FieldDescriptor) -> Schema:
    """The contract's field rules as JSON Schema keywords (input form only)."""
    rules = field.GetOptions().Extensions[validate_pb2.field]
    kind = rules.WhichOneof("type")
    found: Schema = {}
    if kind == "string":
        text = rules.string
        if text.HasField("min_len"):
            found["minLength"] = text.min_len
        if text.HasField("max_len"):
            found["maxLength"] = text.max_len
        if text.HasField("len"):
            found["minLength"] = found["maxLength"] = text.len
        if text.HasField("pattern"):
            found["pattern"] = text.pattern
        if text.HasField("const"):
            found["const"] = text.const
        if text.__getattribute__("in"):
            found["enum"] = list(text.__getattribute__("in"))
        well_known = text.WhichOneof("well_known")
        formats = {"email": "email", "uuid": "uuid", "uri": "uri", "hostname": "hostname", "ip": "ip"}
        if well_known in formats and getattr(text, well_known):
            found["format"] = formats[well_known]
    elif kind in _NUMERIC_RULES:
        numbers = getattr(rules, kind)
        for rule, keyword in (("gte", "minimum"), ("gt", "exclusiveMinimum"), ("lte", "maximum"),
                              ("lt", "exclusiveMaximum")):  # fmt: skip
            if numbers.HasField(rule):
                found[keyword] = getattr(numbers, rule)
    elif kind == "repeated":
        if rules.repeated.HasField("min_items"):
            found["minItems"] = rules.repeated.min_items
        if rules.repeated.HasField("max_items"):
            found["maxItems"] = rules.repeated.max_items
        if rules.repeated.unique:
            found["uniqueItems"] = True
    return found


class SchemaBuilder:
    """Collects the component schemas the document needs, each message once per form."""

    def __init__(self, comments: dict[str, str]) -> None:
        self.comments = comments
        self.components: dict[str, Schema] = {}

    def ref(self, descriptor: Descriptor, *, output: bool) -> Schema:
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        if descriptor.full_name in protojson.WRAPPERS:
            return self._scalar(descriptor.fields_by_name["value"])
        name = schema_name(descriptor, output=output)
        if name not in self.components:
            self.components[name] = {}  # placeholder: stops recursion through self-referencing messages
            self.components[name] = self.message(descriptor, output=output)
        return {"$ref": f"#/components/schemas/{name}"}

    def message(self, descriptor: Descriptor, *, output: bool, skip: frozenset[str] = frozenset()) -> Schema:
        properties: dict[str, Schema] = {}
        required: list[str] = []
        for field in descriptor.fields:
            if field.name in skip:
                continue
            schema = self.field(field, output=output)
            comment = self.comments.get(f"{descriptor.full_name}.{field.name}")
            if comment:
                schema = {**schema, "description": comment} if "$ref" not in schema else {
                    "allOf": [schema], "description": comment}  # fmt: skip
            properties[field.name] = schema
            if output or is_required(field):
                required.append(field.name)
        schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = required
        comment = self.comments.get(descriptor.full_name)
        if comment:
            schema["description"] = comment
        return schema

    def field(self, field: FieldDescriptor, *, output: bool) -> Schema:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            schema: Schema = {"type": "object", "additionalProperties": self._value(value, output=output)}
        elif field.is_repeated:
            schema = {"type": "array", "items": self._value(field, output=output)}
            if not output:
                schema.update(_rules(field))
        else:
            schema = self._value(field, output=output)
            if not output:
                schema = {**schema, **_rules(field)} if "$ref" not in schema else schema
            if self._can_be_null(field, output=output):
                schema = _nullable(schema)
        if field.is_repeated and not output and not is_required(field):
            # ProtoJSON reads null as the field's default, an empty list or map, as the server does.
            schema = _nullable(schema)
        if is_output_only(field):  # shown in responses; ignored when a client sends it back
            schema = (
                {**schema, "readOnly": True}
                if "$ref" not in schema
                else {"allOf": [schema], "readOnly": True}
            )
        return schema

    def _can_be_null(self, field: FieldDescriptor, *, output: bool) -> bool:
        if not output:
            return not is_required(field)  # null = "no value" on input
        if field.message_type is not None or field.has_presence:
            return True
        if field.type == FieldDescriptor.TYPE_STRING:
            return True  # an empty string is rendered as null
        return (
            field.type == FieldDescriptor.TYPE_ENUM
            and 0 in protojson.enum_names(field.enum_type)
            and (protojson.enum_names(field.enum_type)[0] is None)
        )

    def _value(self, field: FieldDescriptor, *, output: bool) -> Schema:
        if field.message_type is not None:
            return self.ref(field.message_type, output=output)
        return self._scalar(field)

    def _scalar(self, field: FieldDescriptor) -> Schema:
        kind = field.type
        if kind == FieldDescriptor.TYPE_STRING:
            return {"type": "string"}
        if kind == FieldDescriptor.TYPE_BOOL:
            return {"type": "boolean"}
        if kind in _INTEGER_FORMATS:
            schema: Schema = {"type": "integer", "format": _INTEGER_FORMATS[kind]}
            if _INTEGER_FORMATS[kind].startswith("u"):
                schema["minimum"] = 0
            return schema
        if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return {"type": "number"}
        if kind == FieldDescriptor.TYPE_BYTES:
            return {"type": "string", "contentEncoding": "base64"}
        if kind == FieldDescriptor.TYPE_ENUM:
            names = [n for n in protojson.enum_names(field.enum_type).values() if n is not None]
            return {"type": "string", "enum": names}
        return {}
