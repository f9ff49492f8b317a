import datetime

from crm.contacts.v1 import consent_pb2 as _consent_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContactErased(_message.Message):
    __slots__ = ("contact_id", "actor_id", "version", "erased_at")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ERASED_AT_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    actor_id: str
    version: int
    erased_at: _timestamp_pb2.Timestamp
    def __init__(self, contact_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., erased_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConsentChanged(_message.Message):
    __slots__ = ("contact_id", "record_id", "channel", "purpose", "status", "source", "occurred_at", "actor_id")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    record_id: str
    channel: _consent_pb2.ConsentChannel
    purpose: _consent_pb2.ConsentPurpose
    status: _consent_pb2.ConsentStatus
    source: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_id: str
    def __init__(self, contact_id: _Optional[str] = ..., record_id: _Optional[str] = ..., channel: _Optional[_Union[_consent_pb2.ConsentChannel, str]] = ..., purpose: _Optional[_Union[_consent_pb2.ConsentPurpose, str]] = ..., status: _Optional[_Union[_consent_pb2.ConsentStatus, str]] = ..., source: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_id: _Optional[str] = ...) -> None: ...
