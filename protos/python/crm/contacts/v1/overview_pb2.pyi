import datetime

from buf.validate import validate_pb2 as _validate_pb2
from crm.contacts.v1 import companies_pb2 as _companies_pb2
from crm.contacts.v1 import consent_pb2 as _consent_pb2
from crm.contacts.v1 import contacts_pb2 as _contacts_pb2
from crm.contacts.v1 import timeline_pb2 as _timeline_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetContactOverviewRequest(_message.Message):
    __slots__ = ("id", "timeline_limit")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    id: str
    timeline_limit: int
    def __init__(self, id: _Optional[str] = ..., timeline_limit: _Optional[int] = ...) -> None: ...

class ContactOverview(_message.Message):
    __slots__ = ("contact", "companies", "consents", "timeline", "counts")
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    COMPANIES_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    contact: _contacts_pb2.Contact
    companies: _containers.RepeatedCompositeFieldContainer[ContactCompanyLink]
    consents: _containers.RepeatedCompositeFieldContainer[_consent_pb2.ConsentState]
    timeline: _containers.RepeatedCompositeFieldContainer[_timeline_pb2.TimelineEntry]
    counts: ContactOverviewCounts
    def __init__(self, contact: _Optional[_Union[_contacts_pb2.Contact, _Mapping]] = ..., companies: _Optional[_Iterable[_Union[ContactCompanyLink, _Mapping]]] = ..., consents: _Optional[_Iterable[_Union[_consent_pb2.ConsentState, _Mapping]]] = ..., timeline: _Optional[_Iterable[_Union[_timeline_pb2.TimelineEntry, _Mapping]]] = ..., counts: _Optional[_Union[ContactOverviewCounts, _Mapping]] = ...) -> None: ...

class ContactCompanyLink(_message.Message):
    __slots__ = ("company_id", "company_name", "role", "title", "is_primary", "created_at")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    IS_PRIMARY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    company_name: str
    role: _companies_pb2.CompanyPersonRole
    title: str
    is_primary: bool
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, company_id: _Optional[str] = ..., company_name: _Optional[str] = ..., role: _Optional[_Union[_companies_pb2.CompanyPersonRole, str]] = ..., title: _Optional[str] = ..., is_primary: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ContactOverviewCounts(_message.Message):
    __slots__ = ("interactions", "timeline_entries", "companies", "last_interaction_at")
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    COMPANIES_FIELD_NUMBER: _ClassVar[int]
    LAST_INTERACTION_AT_FIELD_NUMBER: _ClassVar[int]
    interactions: int
    timeline_entries: int
    companies: int
    last_interaction_at: _timestamp_pb2.Timestamp
    def __init__(self, interactions: _Optional[int] = ..., timeline_entries: _Optional[int] = ..., companies: _Optional[int] = ..., last_interaction_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
