from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GetSupportSummaryRequest(_message.Message):
    __slots__ = ("contact_id",)
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    def __init__(self, contact_id: _Optional[str] = ...) -> None: ...

class SupportSummary(_message.Message):
    __slots__ = ("contact_id", "open_tickets", "escalated_tickets", "sla_breaches", "surveys_answered")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_TICKETS_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_TICKETS_FIELD_NUMBER: _ClassVar[int]
    SLA_BREACHES_FIELD_NUMBER: _ClassVar[int]
    SURVEYS_ANSWERED_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    open_tickets: int
    escalated_tickets: int
    sla_breaches: int
    surveys_answered: int
    def __init__(self, contact_id: _Optional[str] = ..., open_tickets: _Optional[int] = ..., escalated_tickets: _Optional[int] = ..., sla_breaches: _Optional[int] = ..., surveys_answered: _Optional[int] = ...) -> None: ...
