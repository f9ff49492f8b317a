import datetime

from buf.validate import validate_pb2 as _validate_pb2
from crm.common.v1 import history_pb2 as _history_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomFieldResource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTOM_FIELD_RESOURCE_UNSPECIFIED: _ClassVar[CustomFieldResource]
    CUSTOM_FIELD_RESOURCE_CONTACTS: _ClassVar[CustomFieldResource]
    CUSTOM_FIELD_RESOURCE_COMPANIES: _ClassVar[CustomFieldResource]

class CustomFieldType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTOM_FIELD_TYPE_UNSPECIFIED: _ClassVar[CustomFieldType]
    CUSTOM_FIELD_TYPE_TEXT: _ClassVar[CustomFieldType]
    CUSTOM_FIELD_TYPE_NUMBER: _ClassVar[CustomFieldType]
    CUSTOM_FIELD_TYPE_DATE: _ClassVar[CustomFieldType]
    CUSTOM_FIELD_TYPE_BOOLEAN: _ClassVar[CustomFieldType]
    CUSTOM_FIELD_TYPE_SINGLE_CHOICE: _ClassVar[CustomFieldType]
    CUSTOM_FIELD_TYPE_MULTI_CHOICE: _ClassVar[CustomFieldType]
CUSTOM_FIELD_RESOURCE_UNSPECIFIED: CustomFieldResource
CUSTOM_FIELD_RESOURCE_CONTACTS: CustomFieldResource
CUSTOM_FIELD_RESOURCE_COMPANIES: CustomFieldResource
CUSTOM_FIELD_TYPE_UNSPECIFIED: CustomFieldType
CUSTOM_FIELD_TYPE_TEXT: CustomFieldType
CUSTOM_FIELD_TYPE_NUMBER: CustomFieldType
CUSTOM_FIELD_TYPE_DATE: CustomFieldType
CUSTOM_FIELD_TYPE_BOOLEAN: CustomFieldType
CUSTOM_FIELD_TYPE_SINGLE_CHOICE: CustomFieldType
CUSTOM_FIELD_TYPE_MULTI_CHOICE: CustomFieldType

class CustomField(_message.Message):
    __slots__ = ("id", "resource", "name", "label", "type", "choices", "required", "description", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    resource: CustomFieldResource
    name: str
    label: str
    type: CustomFieldType
    choices: _containers.RepeatedScalarFieldContainer[str]
    required: bool
    description: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., resource: _Optional[_Union[CustomFieldResource, str]] = ..., name: _Optional[str] = ..., label: _Optional[str] = ..., type: _Optional[_Union[CustomFieldType, str]] = ..., choices: _Optional[_Iterable[str]] = ..., required: _Optional[bool] = ..., description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateCustomFieldRequest(_message.Message):
    __slots__ = ("resource", "name", "label", "type", "choices", "required", "description")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    resource: CustomFieldResource
    name: str
    label: str
    type: CustomFieldType
    choices: _containers.RepeatedScalarFieldContainer[str]
    required: bool
    description: str
    def __init__(self, resource: _Optional[_Union[CustomFieldResource, str]] = ..., name: _Optional[str] = ..., label: _Optional[str] = ..., type: _Optional[_Union[CustomFieldType, str]] = ..., choices: _Optional[_Iterable[str]] = ..., required: _Optional[bool] = ..., description: _Optional[str] = ...) -> None: ...

class GetCustomFieldRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListCustomFieldsRequest(_message.Message):
    __slots__ = ("resource",)
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    resource: CustomFieldResource
    def __init__(self, resource: _Optional[_Union[CustomFieldResource, str]] = ...) -> None: ...

class ListCustomFieldsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[CustomField]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[CustomField, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateCustomFieldRequest(_message.Message):
    __slots__ = ("custom_field", "update_mask")
    CUSTOM_FIELD_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    custom_field: CustomField
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, custom_field: _Optional[_Union[CustomField, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteCustomFieldRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ListCustomFieldHistoryRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...
