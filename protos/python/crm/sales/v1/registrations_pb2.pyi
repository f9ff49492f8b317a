import datetime

from buf.validate import validate_pb2 as _validate_pb2
from crm.common.v1 import history_pb2 as _history_pb2
from crm.common.v1 import money_pb2 as _money_pb2
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

class DealRegistrationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEAL_REGISTRATION_STATUS_UNSPECIFIED: _ClassVar[DealRegistrationStatus]
    DEAL_REGISTRATION_STATUS_SUBMITTED: _ClassVar[DealRegistrationStatus]
    DEAL_REGISTRATION_STATUS_APPROVED: _ClassVar[DealRegistrationStatus]
    DEAL_REGISTRATION_STATUS_REJECTED: _ClassVar[DealRegistrationStatus]
DEAL_REGISTRATION_STATUS_UNSPECIFIED: DealRegistrationStatus
DEAL_REGISTRATION_STATUS_SUBMITTED: DealRegistrationStatus
DEAL_REGISTRATION_STATUS_APPROVED: DealRegistrationStatus
DEAL_REGISTRATION_STATUS_REJECTED: DealRegistrationStatus

class DealRegistration(_message.Message):
    __slots__ = ("id", "title", "company_id", "company_name", "company_domain", "contact_id", "expected_amount", "expected_close_date", "notes", "status", "decision_reason", "reviewed_by", "reviewed_at", "protected_until", "deal_id", "owner_id", "team_id", "partner_account_id", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CLOSE_DATE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DECISION_REASON_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_BY_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_AT_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    company_id: str
    company_name: str
    company_domain: str
    contact_id: str
    expected_amount: _money_pb2.Money
    expected_close_date: str
    notes: str
    status: DealRegistrationStatus
    decision_reason: str
    reviewed_by: str
    reviewed_at: _timestamp_pb2.Timestamp
    protected_until: _timestamp_pb2.Timestamp
    deal_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., company_id: _Optional[str] = ..., company_name: _Optional[str] = ..., company_domain: _Optional[str] = ..., contact_id: _Optional[str] = ..., expected_amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., expected_close_date: _Optional[str] = ..., notes: _Optional[str] = ..., status: _Optional[_Union[DealRegistrationStatus, str]] = ..., decision_reason: _Optional[str] = ..., reviewed_by: _Optional[str] = ..., reviewed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., protected_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deal_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateDealRegistrationRequest(_message.Message):
    __slots__ = ("title", "company_id", "company_name", "company_domain", "contact_id", "expected_amount", "expected_close_date", "notes", "owner_id", "team_id", "partner_account_id")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CLOSE_DATE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    title: str
    company_id: str
    company_name: str
    company_domain: str
    contact_id: str
    expected_amount: _money_pb2.Money
    expected_close_date: str
    notes: str
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, title: _Optional[str] = ..., company_id: _Optional[str] = ..., company_name: _Optional[str] = ..., company_domain: _Optional[str] = ..., contact_id: _Optional[str] = ..., expected_amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., expected_close_date: _Optional[str] = ..., notes: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class GetDealRegistrationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListDealRegistrationsRequest(_message.Message):
    __slots__ = ("limit", "cursor", "filter", "order_by")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    limit: int
    cursor: str
    filter: str
    order_by: str
    def __init__(self, limit: _Optional[int] = ..., cursor: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListDealRegistrationsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[DealRegistration]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[DealRegistration, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListDealRegistrationHistoryRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ApproveDealRegistrationRequest(_message.Message):
    __slots__ = ("id", "etag", "reason", "create_deal", "deal_id", "deal_owner_id", "deal_team_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_DEAL_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    reason: str
    create_deal: bool
    deal_id: str
    deal_owner_id: str
    deal_team_id: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ..., create_deal: _Optional[bool] = ..., deal_id: _Optional[str] = ..., deal_owner_id: _Optional[str] = ..., deal_team_id: _Optional[str] = ...) -> None: ...

class RejectDealRegistrationRequest(_message.Message):
    __slots__ = ("id", "etag", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DealRegistrationSubmitted(_message.Message):
    __slots__ = ("registration_id", "title", "company_id", "company_name", "company_domain", "contact_id", "owner_id", "team_id", "partner_account_id", "actor_id", "version", "submitted_at", "registration")
    REGISTRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    registration_id: str
    title: str
    company_id: str
    company_name: str
    company_domain: str
    contact_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    actor_id: str
    version: int
    submitted_at: _timestamp_pb2.Timestamp
    registration: DealRegistration
    def __init__(self, registration_id: _Optional[str] = ..., title: _Optional[str] = ..., company_id: _Optional[str] = ..., company_name: _Optional[str] = ..., company_domain: _Optional[str] = ..., contact_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., submitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., registration: _Optional[_Union[DealRegistration, _Mapping]] = ...) -> None: ...

class DealRegistrationReviewed(_message.Message):
    __slots__ = ("registration_id", "title", "company_id", "company_domain", "contact_id", "owner_id", "team_id", "partner_account_id", "status", "reason", "protected_until", "deal_id", "actor_id", "version", "changed_fields", "reviewed_at")
    REGISTRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_AT_FIELD_NUMBER: _ClassVar[int]
    registration_id: str
    title: str
    company_id: str
    company_domain: str
    contact_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    status: str
    reason: str
    protected_until: _timestamp_pb2.Timestamp
    deal_id: str
    actor_id: str
    version: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    reviewed_at: _timestamp_pb2.Timestamp
    def __init__(self, registration_id: _Optional[str] = ..., title: _Optional[str] = ..., company_id: _Optional[str] = ..., company_domain: _Optional[str] = ..., contact_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., protected_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deal_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ..., reviewed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
