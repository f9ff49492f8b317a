from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GetMarketingSummaryRequest(_message.Message):
    __slots__ = ("contact_id",)
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    def __init__(self, contact_id: _Optional[str] = ...) -> None: ...

class MarketingSummary(_message.Message):
    __slots__ = ("contact_id", "segments", "campaigns_targeted", "responses")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    CAMPAIGNS_TARGETED_FIELD_NUMBER: _ClassVar[int]
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    segments: _containers.RepeatedScalarFieldContainer[str]
    campaigns_targeted: int
    responses: int
    def __init__(self, contact_id: _Optional[str] = ..., segments: _Optional[_Iterable[str]] = ..., campaigns_targeted: _Optional[int] = ..., responses: _Optional[int] = ...) -> None: ...
