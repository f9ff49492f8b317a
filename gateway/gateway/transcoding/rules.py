"""Routes from `google.api.http` annotations: which HTTP method and path reach which RPC, and how.

Supported, as in Google's HttpRule: `get|put|post|delete|patch` with a path template whose variables are
`{field}` or `{field.sub}` (one path segment each, optionally spelled `{field=*}`), a custom verb suffix
(`/api/v1/leads/{id}:convert`), `body: "*"` or `body: "<field>"` (the rest of the request comes from
the query string), and `additional_bindings`. Beyond HttpRule's grammar, a variable may end its segment
with a literal file extension (`/api/v1/quotes/{id}.pdf`): a document rendered from a resource is
addressed the way people expect, and its extension names the media type in the OpenAPI document (see
`media_type`). Anything else (multi-segment `**` variables, `custom` methods, `response_body`) is
refused at start with the RPC named, so a contract never half-works.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor

_VARIABLE = re.compile(r"^\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)(?:=\*)?\}(\.[A-Za-z0-9]+)?$")
_LITERAL = re.compile(r"^[A-Za-z0-9_.~-]+$")
_VERB = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class ContractError(ValueError):
    """An annotation the gateway cannot serve; the message names the RPC."""


@dataclass(frozen=True)
class PathVariable:
    field_path: tuple[str, ...]  # e.g. ("contact", "id")
    segment: int  # index of the path segment it fills
    suffix: str = ""  # a literal extension after it in the same segment: ".pdf" in {id}.pdf

    @property
    def name(self) -> str:
        return ".".join(self.field_path)


@dataclass(frozen=True)
class Route:
    service: str  # upstream name: the second part of the package, e.g. "contacts" for crm.contacts.v1
    method: MethodDescriptor
    http_method: str  # GET, POST, ...
    template: str  # as annotated, e.g. /api/v1/contacts/{contact.id}
    segments: tuple[str, ...]  # literal segments, "" where a variable goes
    verb: str  # custom verb after ':' or ""
    variables: tuple[PathVariable, ...]
    body: str  # "", "*" or a field name
    binding: int = 0  # 0 for the main rule, 1.. for additional_bindings

    @property
    def rpc_path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def request(self) -> Descriptor:
        return self.method.input_type

    @property
    def response(self) -> Descriptor:
        return self.method.output_type

    @property
    def body_field(self) -> FieldDescriptor | None:
        if self.body in ("", "*"):
            return None
        return self.request.fields_by_name[self.body]

    @property
    def flask_rule(self) -> str:
        names = {v.segment: f"<v{i}>{v.suffix}" for i, v in enumerate(self.variables)}
        path = "/" + "/".join(names.get(i, segment) for i, segment in enumerate(self.segments))
        return f"{path}:{self.verb}" if self.verb else path

    def parameter_name(self, variable: PathVariable) -> str:
        """The name a path variable has in the OpenAPI document: its last field name (`{contact.id}` is
        `{id}`, so /contacts/{id} reads the same for every method), unless two variables share it."""
        short = variable.field_path[-1]
        clash = sum(v.field_path[-1] == short for v in self.variables) > 1
        return variable.name if clash else short

    @property
    def openapi_path(self) -> str:
        names = {v.segment: "{" + self.parameter_name(v) + "}" + v.suffix for v in self.variables}
        path = "/" + "/".join(names.get(i, segment) for i, segment in enumerate(self.segments))
        return f"{path}:{self.verb}" if self.verb else path

    @property
    def media_type(self) -> str:
        """What a raw (google.api.HttpBody) answer is documented as: the type the path's extension names
        (`{id}.pdf`, `calendar.ics`), else any bytes. The answer itself carries its own content type."""
        guessed, _ = mimetypes.guess_type(self.openapi_path.rsplit("/", 1)[-1], strict=False)
        return guessed or "application/octet-stream"

    @property
    def addresses_a_document(self) -> bool:
        """Whether the path ends in a variable with an extension: a rendering of a record, not the record."""
        return bool(self.variables) and bool(self.variables[-1].suffix)

    @property
    def operation_id(self) -> str:
        suffix = f"_{self.binding}" if self.binding else ""
        return f"{self.service}.{self.method.name}{suffix}"


def upstream_of(method: MethodDescriptor) -> str:
    package = method.containing_service.file.package.split(".")
    if len(package) < 2:
        raise ContractError(f"{method.full_name}: package {'.'.join(package)} names no service")
    return package[1]


def _field_at(message: Descriptor, path: tuple[str, ...], method: MethodDescriptor) -> FieldDescriptor:
    field = None
    for depth, name in enumerate(path):
        field = message.fields_by_name.get(name)
        if field is None or field.is_repeated:
            raise ContractError(f"{method.full_name}: path variable {'.'.join(path)} is not a singular field")
        if depth < len(path) - 1:
            if field.message_type is None:
                raise ContractError(f"{method.full_name}: {'.'.join(path[: depth + 1])} is not a message")
            message = field.message_type
    assert field is not None
    if field.message_type is not None:
        raise ContractError(f"{method.full_name}: path variable {'.'.join(path)} must be a scalar")
    return field


def _parse_template(
    template: str, method: MethodDescriptor
) -> tuple[tuple[str, ...], str, tuple[PathVariable, ...]]:
    if not template.startswith("/"):
        raise ContractError(f"{method.full_name}: path {template!r} must start with /")
    path, verb = template, ""
    last = template.rsplit("/", 1)[-1]
    if (":" in last and not last.startswith("{")) or "}:" in last:
        path, verb = template.rsplit(":", 1)
    if verb and not _VERB.match(verb):
        raise ContractError(f"{method.full_name}: bad custom verb {verb!r}")
    segments: list[str] = []
    variables: list[PathVariable] = []
    for index, segment in enumerate(path.strip("/").split("/")):
        match = _VARIABLE.match(segment)
        if match:
            field_path = tuple(match.group(1).split("."))
            _field_at(method.input_type, field_path, method)
            variables.append(PathVariable(field_path, index, match.group(2) or ""))
            segments.append("")
        elif _LITERAL.match(segment):
            segments.append(segment)
        else:
            raise ContractError(f"{method.full_name}: unsupported path segment {segment!r} in {template!r}")
    return tuple(segments), verb, tuple(variables)


def _route(rule: http_pb2.HttpRule, method: MethodDescriptor, binding: int = 0) -> Route:
    kind = rule.WhichOneof("pattern")
    if kind not in ("get", "put", "post", "delete", "patch"):
        raise ContractError(f"{method.full_name}: HTTP pattern {kind!r} is not supported")
    if rule.response_body:
        raise ContractError(f"{method.full_name}: response_body is not supported")
    template = getattr(rule, kind)
    segments, verb, variables = _parse_template(template, method)
    if rule.body not in ("", "*"):
        body_field = method.input_type.fields_by_name.get(rule.body)
        if body_field is None or body_field.message_type is None or body_field.is_repeated:
            raise ContractError(f"{method.full_name}: body {rule.body!r} must name a singular message field")
    if kind in ("get", "delete") and rule.body:
        raise ContractError(f"{method.full_name}: {kind.upper()} takes no body")
    return Route(
        service=upstream_of(method),
        method=method,
        http_method=kind.upper(),
        template=template,
        segments=segments,
        verb=verb,
        variables=variables,
        body=rule.body,
        binding=binding,
    )


def routes_of(method: MethodDescriptor) -> list[Route]:
    """The routes an RPC's annotation declares (none for an RPC without one: internal to the platform)."""
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return []
    rule = options.Extensions[annotations_pb2.http]
    routes = [_route(rule, method)]
    for index, extra in enumerate(rule.additional_bindings, start=1):
        if extra.additional_bindings:
            raise ContractError(f"{method.full_name}: additional_bindings must not nest")
        routes.append(_route(extra, method, index))
    return routes
