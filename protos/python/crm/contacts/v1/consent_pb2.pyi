import datetime

from buf.validate import validate_pb2 as _validate_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConsentChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_CHANNEL_UNSPECIFIED: _ClassVar[ConsentChannel]
    CONSENT_CHANNEL_EMAIL: _ClassVar[ConsentChannel]
    CONSENT_CHANNEL_SMS: _ClassVar[ConsentChannel]
    CONSENT_CHANNEL_PHONE: _ClassVar[ConsentChannel]
    CONSENT_CHANNEL_POST: _ClassVar[ConsentChannel]

class ConsentPurpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_PURPOSE_UNSPECIFIED: _ClassVar[ConsentPurpose]
    CONSENT_PURPOSE_MARKETING: _ClassVar[ConsentPurpose]
    CONSENT_PURPOSE_SERVICE: _ClassVar[ConsentPurpose]

class ConsentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_STATUS_UNSPECIFIED: _ClassVar[ConsentStatus]
    CONSENT_STATUS_GRANTED: _ClassVar[ConsentStatus]
    CONSENT_STATUS_WITHDRAWN: _ClassVar[ConsentStatus]
    CONSENT_STATUS_UNKNOWN: _ClassVar[ConsentStatus]
CONSENT_CHANNEL_UNSPECIFIED: ConsentChannel
CONSENT_CHANNEL_EMAIL: ConsentChannel
CONSENT_CHANNEL_SMS: ConsentChannel
CONSENT_CHANNEL_PHONE: ConsentChannel
CONSENT_CHANNEL_POST: ConsentChannel
CONSENT_PURPOSE_UNSPECIFIED: ConsentPurpose
CONSENT_PURPOSE_MARKETING: ConsentPurpose
CONSENT_PURPOSE_SERVICE: ConsentPurpose
CONSENT_STATUS_UNSPECIFIED: ConsentStatus
CONSENT_STATUS_GRANTED: ConsentStatus
CONSENT_STATUS_WITHDRAWN: ConsentStatus
CONSENT_STATUS_UNKNOWN: ConsentStatus

class ConsentRecord(_message.Message):
    __slots__ = ("id", "contact_id", "channel", "purpose", "status", "source", "occurred_at", "recorded_at", "actor_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    contact_id: str
    channel: ConsentChannel
    purpose: ConsentPurpose
    status: ConsentStatus
    source: str
    occurred_at: _timestamp_pb2.Timestamp
    recorded_at: _timestamp_pb2.Timestamp
    actor_id: str
    def __init__(self, id: _Optional[str] = ..., contact_id: _Optional[str] = ..., channel: _Optional[_Union[ConsentChannel, str]] = ..., purpose: _Optional[_Union[ConsentPurpose, str]] = ..., status: _Optional[_Union[ConsentStatus, str]] = ..., source: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_id: _Optional[str] = ...) -> None: ...

class ConsentState(_message.Message):
    __slots__ = ("channel", "purpose", "status", "source", "occurred_at", "record_id")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    channel: ConsentChannel
    purpose: ConsentPurpose
    status: ConsentStatus
    source: str
    occurred_at: _timestamp_pb2.Timestamp
    record_id: str
    def __init__(self, channel: _Optional[_Union[ConsentChannel, str]] = ..., purpose: _Optional[_Union[ConsentPurpose, str]] = ..., status: _Optional[_Union[ConsentStatus, str]] = ..., source: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., record_id: _Optional[str] = ...) -> None: ...

class ListConsentsRequest(_message.Message):
    __slots__ = ("contact_id",)
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    def __init__(self, contact_id: _Optional[str] = ...) -> None: ...

class ListConsentsResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ConsentState]
    def __init__(self, items: _Optional[_Iterable[_Union[ConsentState, _Mapping]]] = ...) -> None: ...

class RecordConsentRequest(_message.Message):
    __slots__ = ("contact_id", "channel", "purpose", "status", "source", "occurred_at")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    channel: ConsentChannel
    purpose: ConsentPurpose
    status: ConsentStatus
    source: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, contact_id: _Optional[str] = ..., channel: _Optional[_Union[ConsentChannel, str]] = ..., purpose: _Optional[_Union[ConsentPurpose, str]] = ..., status: _Optional[_Union[ConsentStatus, str]] = ..., source: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListConsentHistoryRequest(_message.Message):
    __slots__ = ("contact_id", "limit", "cursor")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    limit: int
    cursor: str
    def __init__(self, contact_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListConsentHistoryResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ConsentRecord]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[ConsentRecord, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...
