import datetime

from crm.common.v1 import history_pb2 as _history_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContactCreated(_message.Message):
    __slots__ = ("contact_id", "first_name", "last_name", "email", "phone", "company", "created_at", "actor_id", "version", "owner_id", "team_id", "partner_account_id", "emails", "phones", "job_title", "preferred_channel", "language", "time_zone", "country", "region", "city", "lead_source", "industry", "occupation", "tags", "birth_date")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    PHONES_FIELD_NUMBER: _ClassVar[int]
    JOB_TITLE_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    LEAD_SOURCE_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    OCCUPATION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    created_at: _timestamp_pb2.Timestamp
    actor_id: str
    version: int
    owner_id: str
    team_id: str
    partner_account_id: str
    emails: _containers.RepeatedScalarFieldContainer[str]
    phones: _containers.RepeatedScalarFieldContainer[str]
    job_title: str
    preferred_channel: str
    language: str
    time_zone: str
    country: str
    region: str
    city: str
    lead_source: str
    industry: str
    occupation: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    birth_date: str
    def __init__(self, contact_id: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., company: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., emails: _Optional[_Iterable[str]] = ..., phones: _Optional[_Iterable[str]] = ..., job_title: _Optional[str] = ..., preferred_channel: _Optional[str] = ..., language: _Optional[str] = ..., time_zone: _Optional[str] = ..., country: _Optional[str] = ..., region: _Optional[str] = ..., city: _Optional[str] = ..., lead_source: _Optional[str] = ..., industry: _Optional[str] = ..., occupation: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., birth_date: _Optional[str] = ...) -> None: ...

class ContactUpdated(_message.Message):
    __slots__ = ("contact_id", "actor_id", "version", "changed_fields", "changes", "updated_at", "email", "phone", "preferred_channel", "language", "time_zone")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    actor_id: str
    version: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    changes: _containers.RepeatedCompositeFieldContainer[_history_pb2.FieldChange]
    updated_at: _timestamp_pb2.Timestamp
    email: str
    phone: str
    preferred_channel: str
    language: str
    time_zone: str
    def __init__(self, contact_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ..., changes: _Optional[_Iterable[_Union[_history_pb2.FieldChange, _Mapping]]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., preferred_channel: _Optional[str] = ..., language: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class ContactArchived(_message.Message):
    __slots__ = ("contact_id", "actor_id", "version", "archived_at")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    actor_id: str
    version: int
    archived_at: _timestamp_pb2.Timestamp
    def __init__(self, contact_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ContactMerged(_message.Message):
    __slots__ = ("contact_id", "survivor_id", "merged_ids", "actor_id", "version", "merged_at", "owner_id", "team_id", "partner_account_id")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    SURVIVOR_ID_FIELD_NUMBER: _ClassVar[int]
    MERGED_IDS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MERGED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    survivor_id: str
    merged_ids: _containers.RepeatedScalarFieldContainer[str]
    actor_id: str
    version: int
    merged_at: _timestamp_pb2.Timestamp
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, contact_id: _Optional[str] = ..., survivor_id: _Optional[str] = ..., merged_ids: _Optional[_Iterable[str]] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., merged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class ContactsImported(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ImportedContact]
    def __init__(self, items: _Optional[_Iterable[_Union[ImportedContact, _Mapping]]] = ...) -> None: ...

class ImportedContact(_message.Message):
    __slots__ = ("id", "aggregate_id", "sequence", "data")
    ID_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    aggregate_id: str
    sequence: int
    data: ContactCreated
    def __init__(self, id: _Optional[str] = ..., aggregate_id: _Optional[str] = ..., sequence: _Optional[int] = ..., data: _Optional[_Union[ContactCreated, _Mapping]] = ...) -> None: ...
