import datetime

from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TimelineEntry(_message.Message):
    __slots__ = ("id", "contact_id", "occurred_at", "kind", "source", "event_type", "title", "summary", "ref_type", "ref_id", "actor_id", "details", "event_id", "resource_type")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    REF_TYPE_FIELD_NUMBER: _ClassVar[int]
    REF_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    contact_id: str
    occurred_at: _timestamp_pb2.Timestamp
    kind: str
    source: str
    event_type: str
    title: str
    summary: str
    ref_type: str
    ref_id: str
    actor_id: str
    details: _struct_pb2.Struct
    event_id: str
    resource_type: str
    def __init__(self, id: _Optional[str] = ..., contact_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., source: _Optional[str] = ..., event_type: _Optional[str] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., ref_type: _Optional[str] = ..., ref_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., event_id: _Optional[str] = ..., resource_type: _Optional[str] = ...) -> None: ...

class ListTimelineEntriesRequest(_message.Message):
    __slots__ = ("contact_id", "limit", "cursor", "filter")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    limit: int
    cursor: str
    filter: str
    def __init__(self, contact_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ..., filter: _Optional[str] = ...) -> None: ...

class ListTimelineEntriesResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[TimelineEntry]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[TimelineEntry, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...
