import datetime

from buf.validate import validate_pb2 as _validate_pb2
from crm.common.v1 import history_pb2 as _history_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContactLabel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTACT_LABEL_UNSPECIFIED: _ClassVar[ContactLabel]
    CONTACT_LABEL_WORK: _ClassVar[ContactLabel]
    CONTACT_LABEL_HOME: _ClassVar[ContactLabel]
    CONTACT_LABEL_MOBILE: _ClassVar[ContactLabel]
    CONTACT_LABEL_OTHER: _ClassVar[ContactLabel]

class ContactChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTACT_CHANNEL_UNSPECIFIED: _ClassVar[ContactChannel]
    CONTACT_CHANNEL_EMAIL: _ClassVar[ContactChannel]
    CONTACT_CHANNEL_PHONE: _ClassVar[ContactChannel]
    CONTACT_CHANNEL_SMS: _ClassVar[ContactChannel]
    CONTACT_CHANNEL_POST: _ClassVar[ContactChannel]
    CONTACT_CHANNEL_IN_PERSON: _ClassVar[ContactChannel]
    CONTACT_CHANNEL_VIDEO_CALL: _ClassVar[ContactChannel]
    CONTACT_CHANNEL_MESSAGING: _ClassVar[ContactChannel]

class ImportantDateKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORTANT_DATE_KIND_UNSPECIFIED: _ClassVar[ImportantDateKind]
    IMPORTANT_DATE_KIND_BIRTHDAY: _ClassVar[ImportantDateKind]
    IMPORTANT_DATE_KIND_ANNIVERSARY: _ClassVar[ImportantDateKind]
    IMPORTANT_DATE_KIND_SPOUSE_BIRTHDAY: _ClassVar[ImportantDateKind]
    IMPORTANT_DATE_KIND_CHILD_BIRTHDAY: _ClassVar[ImportantDateKind]
    IMPORTANT_DATE_KIND_OTHER: _ClassVar[ImportantDateKind]

class MembershipKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMBERSHIP_KIND_UNSPECIFIED: _ClassVar[MembershipKind]
    MEMBERSHIP_KIND_CLUB: _ClassVar[MembershipKind]
    MEMBERSHIP_KIND_ASSOCIATION: _ClassVar[MembershipKind]
    MEMBERSHIP_KIND_LOYALTY_PROGRAMME: _ClassVar[MembershipKind]
    MEMBERSHIP_KIND_PROFESSIONAL_BODY: _ClassVar[MembershipKind]
    MEMBERSHIP_KIND_OTHER: _ClassVar[MembershipKind]
CONTACT_LABEL_UNSPECIFIED: ContactLabel
CONTACT_LABEL_WORK: ContactLabel
CONTACT_LABEL_HOME: ContactLabel
CONTACT_LABEL_MOBILE: ContactLabel
CONTACT_LABEL_OTHER: ContactLabel
CONTACT_CHANNEL_UNSPECIFIED: ContactChannel
CONTACT_CHANNEL_EMAIL: ContactChannel
CONTACT_CHANNEL_PHONE: ContactChannel
CONTACT_CHANNEL_SMS: ContactChannel
CONTACT_CHANNEL_POST: ContactChannel
CONTACT_CHANNEL_IN_PERSON: ContactChannel
CONTACT_CHANNEL_VIDEO_CALL: ContactChannel
CONTACT_CHANNEL_MESSAGING: ContactChannel
IMPORTANT_DATE_KIND_UNSPECIFIED: ImportantDateKind
IMPORTANT_DATE_KIND_BIRTHDAY: ImportantDateKind
IMPORTANT_DATE_KIND_ANNIVERSARY: ImportantDateKind
IMPORTANT_DATE_KIND_SPOUSE_BIRTHDAY: ImportantDateKind
IMPORTANT_DATE_KIND_CHILD_BIRTHDAY: ImportantDateKind
IMPORTANT_DATE_KIND_OTHER: ImportantDateKind
MEMBERSHIP_KIND_UNSPECIFIED: MembershipKind
MEMBERSHIP_KIND_CLUB: MembershipKind
MEMBERSHIP_KIND_ASSOCIATION: MembershipKind
MEMBERSHIP_KIND_LOYALTY_PROGRAMME: MembershipKind
MEMBERSHIP_KIND_PROFESSIONAL_BODY: MembershipKind
MEMBERSHIP_KIND_OTHER: MembershipKind

class Contact(_message.Message):
    __slots__ = ("id", "first_name", "last_name", "email", "phone", "company", "created_at", "updated_at", "etag", "archived_at", "owner_id", "team_id", "partner_account_id", "emails", "phones", "addresses", "social_profiles", "job_title", "preferred_channel", "preferred_contact_time", "language", "time_zone", "lead_source", "industry", "occupation", "birth_date", "region", "country", "city", "important_dates", "hobbies", "interests", "memberships", "tags", "notes", "custom_fields", "external_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    PHONES_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    SOCIAL_PROFILES_FIELD_NUMBER: _ClassVar[int]
    JOB_TITLE_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_CONTACT_TIME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    LEAD_SOURCE_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    OCCUPATION_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    IMPORTANT_DATES_FIELD_NUMBER: _ClassVar[int]
    HOBBIES_FIELD_NUMBER: _ClassVar[int]
    INTERESTS_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELDS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    archived_at: _timestamp_pb2.Timestamp
    owner_id: str
    team_id: str
    partner_account_id: str
    emails: _containers.RepeatedCompositeFieldContainer[ContactEmail]
    phones: _containers.RepeatedCompositeFieldContainer[ContactPhone]
    addresses: _containers.RepeatedCompositeFieldContainer[ContactAddress]
    social_profiles: _containers.RepeatedCompositeFieldContainer[SocialProfile]
    job_title: str
    preferred_channel: ContactChannel
    preferred_contact_time: str
    language: str
    time_zone: str
    lead_source: str
    industry: str
    occupation: str
    birth_date: str
    region: str
    country: str
    city: str
    important_dates: _containers.RepeatedCompositeFieldContainer[ImportantDate]
    hobbies: _containers.RepeatedScalarFieldContainer[str]
    interests: _containers.RepeatedScalarFieldContainer[str]
    memberships: _containers.RepeatedCompositeFieldContainer[Membership]
    tags: _containers.RepeatedScalarFieldContainer[str]
    notes: str
    custom_fields: _struct_pb2.Struct
    external_id: str
    def __init__(self, id: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., company: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., emails: _Optional[_Iterable[_Union[ContactEmail, _Mapping]]] = ..., phones: _Optional[_Iterable[_Union[ContactPhone, _Mapping]]] = ..., addresses: _Optional[_Iterable[_Union[ContactAddress, _Mapping]]] = ..., social_profiles: _Optional[_Iterable[_Union[SocialProfile, _Mapping]]] = ..., job_title: _Optional[str] = ..., preferred_channel: _Optional[_Union[ContactChannel, str]] = ..., preferred_contact_time: _Optional[str] = ..., language: _Optional[str] = ..., time_zone: _Optional[str] = ..., lead_source: _Optional[str] = ..., industry: _Optional[str] = ..., occupation: _Optional[str] = ..., birth_date: _Optional[str] = ..., region: _Optional[str] = ..., country: _Optional[str] = ..., city: _Optional[str] = ..., important_dates: _Optional[_Iterable[_Union[ImportantDate, _Mapping]]] = ..., hobbies: _Optional[_Iterable[str]] = ..., interests: _Optional[_Iterable[str]] = ..., memberships: _Optional[_Iterable[_Union[Membership, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ..., notes: _Optional[str] = ..., custom_fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., external_id: _Optional[str] = ...) -> None: ...

class ContactEmail(_message.Message):
    __slots__ = ("address", "label", "primary")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    address: str
    label: ContactLabel
    primary: bool
    def __init__(self, address: _Optional[str] = ..., label: _Optional[_Union[ContactLabel, str]] = ..., primary: _Optional[bool] = ...) -> None: ...

class ContactPhone(_message.Message):
    __slots__ = ("number", "formatted", "label", "primary")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    FORMATTED_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    number: str
    formatted: str
    label: ContactLabel
    primary: bool
    def __init__(self, number: _Optional[str] = ..., formatted: _Optional[str] = ..., label: _Optional[_Union[ContactLabel, str]] = ..., primary: _Optional[bool] = ...) -> None: ...

class ContactAddress(_message.Message):
    __slots__ = ("street", "city", "region", "postal_code", "country", "label", "primary")
    STREET_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    label: ContactLabel
    primary: bool
    def __init__(self, street: _Optional[str] = ..., city: _Optional[str] = ..., region: _Optional[str] = ..., postal_code: _Optional[str] = ..., country: _Optional[str] = ..., label: _Optional[_Union[ContactLabel, str]] = ..., primary: _Optional[bool] = ...) -> None: ...

class SocialProfile(_message.Message):
    __slots__ = ("network", "handle", "url")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    network: str
    handle: str
    url: str
    def __init__(self, network: _Optional[str] = ..., handle: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class ImportantDate(_message.Message):
    __slots__ = ("kind", "date", "label")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    kind: ImportantDateKind
    date: str
    label: str
    def __init__(self, kind: _Optional[_Union[ImportantDateKind, str]] = ..., date: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class Membership(_message.Message):
    __slots__ = ("name", "kind", "member_number", "since")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: MembershipKind
    member_number: str
    since: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[MembershipKind, str]] = ..., member_number: _Optional[str] = ..., since: _Optional[str] = ...) -> None: ...

class CreateContactRequest(_message.Message):
    __slots__ = ("first_name", "last_name", "email", "phone", "company", "owner_id", "team_id", "partner_account_id", "emails", "phones", "addresses", "social_profiles", "job_title", "preferred_channel", "preferred_contact_time", "language", "time_zone", "lead_source", "industry", "occupation", "birth_date", "region", "country", "city", "important_dates", "hobbies", "interests", "memberships", "tags", "notes", "allow_duplicate", "custom_fields", "external_id")
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    PHONES_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    SOCIAL_PROFILES_FIELD_NUMBER: _ClassVar[int]
    JOB_TITLE_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_CONTACT_TIME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    LEAD_SOURCE_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    OCCUPATION_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    IMPORTANT_DATES_FIELD_NUMBER: _ClassVar[int]
    HOBBIES_FIELD_NUMBER: _ClassVar[int]
    INTERESTS_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELDS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    owner_id: str
    team_id: str
    partner_account_id: str
    emails: _containers.RepeatedCompositeFieldContainer[ContactEmail]
    phones: _containers.RepeatedCompositeFieldContainer[ContactPhone]
    addresses: _containers.RepeatedCompositeFieldContainer[ContactAddress]
    social_profiles: _containers.RepeatedCompositeFieldContainer[SocialProfile]
    job_title: str
    preferred_channel: ContactChannel
    preferred_contact_time: str
    language: str
    time_zone: str
    lead_source: str
    industry: str
    occupation: str
    birth_date: str
    region: str
    country: str
    city: str
    important_dates: _containers.RepeatedCompositeFieldContainer[ImportantDate]
    hobbies: _containers.RepeatedScalarFieldContainer[str]
    interests: _containers.RepeatedScalarFieldContainer[str]
    memberships: _containers.RepeatedCompositeFieldContainer[Membership]
    tags: _containers.RepeatedScalarFieldContainer[str]
    notes: str
    allow_duplicate: bool
    custom_fields: _struct_pb2.Struct
    external_id: str
    def __init__(self, first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., company: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., emails: _Optional[_Iterable[_Union[ContactEmail, _Mapping]]] = ..., phones: _Optional[_Iterable[_Union[ContactPhone, _Mapping]]] = ..., addresses: _Optional[_Iterable[_Union[ContactAddress, _Mapping]]] = ..., social_profiles: _Optional[_Iterable[_Union[SocialProfile, _Mapping]]] = ..., job_title: _Optional[str] = ..., preferred_channel: _Optional[_Union[ContactChannel, str]] = ..., preferred_contact_time: _Optional[str] = ..., language: _Optional[str] = ..., time_zone: _Optional[str] = ..., lead_source: _Optional[str] = ..., industry: _Optional[str] = ..., occupation: _Optional[str] = ..., birth_date: _Optional[str] = ..., region: _Optional[str] = ..., country: _Optional[str] = ..., city: _Optional[str] = ..., important_dates: _Optional[_Iterable[_Union[ImportantDate, _Mapping]]] = ..., hobbies: _Optional[_Iterable[str]] = ..., interests: _Optional[_Iterable[str]] = ..., memberships: _Optional[_Iterable[_Union[Membership, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ..., notes: _Optional[str] = ..., allow_duplicate: _Optional[bool] = ..., custom_fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., external_id: _Optional[str] = ...) -> None: ...

class GetContactRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListContactsRequest(_message.Message):
    __slots__ = ("limit", "cursor", "filter", "order_by", "q")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    limit: int
    cursor: str
    filter: str
    order_by: str
    q: str
    def __init__(self, limit: _Optional[int] = ..., cursor: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ..., q: _Optional[str] = ...) -> None: ...

class ListContactsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Contact]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Contact, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateContactRequest(_message.Message):
    __slots__ = ("contact", "update_mask")
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    contact: Contact
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, contact: _Optional[_Union[Contact, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteContactRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...
