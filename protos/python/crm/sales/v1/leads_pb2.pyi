import datetime

from buf.validate import validate_pb2 as _validate_pb2
from crm.common.v1 import history_pb2 as _history_pb2
from crm.common.v1 import money_pb2 as _money_pb2
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

class LeadStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAD_STATUS_UNSPECIFIED: _ClassVar[LeadStatus]
    LEAD_STATUS_NEW: _ClassVar[LeadStatus]
    LEAD_STATUS_WORKING: _ClassVar[LeadStatus]
    LEAD_STATUS_QUALIFIED: _ClassVar[LeadStatus]
    LEAD_STATUS_DISQUALIFIED: _ClassVar[LeadStatus]
    LEAD_STATUS_CONVERTED: _ClassVar[LeadStatus]
LEAD_STATUS_UNSPECIFIED: LeadStatus
LEAD_STATUS_NEW: LeadStatus
LEAD_STATUS_WORKING: LeadStatus
LEAD_STATUS_QUALIFIED: LeadStatus
LEAD_STATUS_DISQUALIFIED: LeadStatus
LEAD_STATUS_CONVERTED: LeadStatus

class LeadScoreItem(_message.Message):
    __slots__ = ("rule_id", "rule_name", "points", "reason")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_NAME_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    rule_name: str
    points: int
    reason: str
    def __init__(self, rule_id: _Optional[str] = ..., rule_name: _Optional[str] = ..., points: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class Lead(_message.Message):
    __slots__ = ("id", "first_name", "last_name", "email", "phone", "company", "company_domain", "title", "industry", "country", "region", "source", "campaign_id", "status", "disqualified_reason", "notes", "score", "score_breakdown", "converted_contact_id", "converted_company_id", "converted_deal_id", "converted_at", "created_at", "updated_at", "etag", "archived_at", "owner_id", "team_id", "partner_account_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    COMPANY_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DISQUALIFIED_REASON_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    company_domain: str
    title: str
    industry: str
    country: str
    region: str
    source: str
    campaign_id: str
    status: LeadStatus
    disqualified_reason: str
    notes: str
    score: int
    score_breakdown: _containers.RepeatedCompositeFieldContainer[LeadScoreItem]
    converted_contact_id: str
    converted_company_id: str
    converted_deal_id: str
    converted_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    archived_at: _timestamp_pb2.Timestamp
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, id: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., company: _Optional[str] = ..., company_domain: _Optional[str] = ..., title: _Optional[str] = ..., industry: _Optional[str] = ..., country: _Optional[str] = ..., region: _Optional[str] = ..., source: _Optional[str] = ..., campaign_id: _Optional[str] = ..., status: _Optional[_Union[LeadStatus, str]] = ..., disqualified_reason: _Optional[str] = ..., notes: _Optional[str] = ..., score: _Optional[int] = ..., score_breakdown: _Optional[_Iterable[_Union[LeadScoreItem, _Mapping]]] = ..., converted_contact_id: _Optional[str] = ..., converted_company_id: _Optional[str] = ..., converted_deal_id: _Optional[str] = ..., converted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class CreateLeadRequest(_message.Message):
    __slots__ = ("first_name", "last_name", "email", "phone", "company", "company_domain", "title", "industry", "country", "region", "source", "campaign_id", "notes", "owner_id", "team_id", "partner_account_id")
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    COMPANY_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    company_domain: str
    title: str
    industry: str
    country: str
    region: str
    source: str
    campaign_id: str
    notes: str
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., company: _Optional[str] = ..., company_domain: _Optional[str] = ..., title: _Optional[str] = ..., industry: _Optional[str] = ..., country: _Optional[str] = ..., region: _Optional[str] = ..., source: _Optional[str] = ..., campaign_id: _Optional[str] = ..., notes: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class GetLeadRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListLeadsRequest(_message.Message):
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

class ListLeadsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Lead]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Lead, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateLeadRequest(_message.Message):
    __slots__ = ("lead", "update_mask")
    LEAD_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    lead: Lead
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, lead: _Optional[_Union[Lead, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteLeadRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ListLeadHistoryRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ConvertLeadRequest(_message.Message):
    __slots__ = ("id", "create_deal", "deal_title", "pipeline_id", "deal_amount")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_DEAL_FIELD_NUMBER: _ClassVar[int]
    DEAL_TITLE_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    create_deal: bool
    deal_title: str
    pipeline_id: str
    deal_amount: _money_pb2.Money
    def __init__(self, id: _Optional[str] = ..., create_deal: _Optional[bool] = ..., deal_title: _Optional[str] = ..., pipeline_id: _Optional[str] = ..., deal_amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class ConvertLeadResponse(_message.Message):
    __slots__ = ("lead_id", "contact_id", "company_id", "deal_id")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    contact_id: str
    company_id: str
    deal_id: str
    def __init__(self, lead_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., company_id: _Optional[str] = ..., deal_id: _Optional[str] = ...) -> None: ...

class SubmitWebFormRequest(_message.Message):
    __slots__ = ("form_key", "lead", "client_address")
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    LEAD_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    form_key: str
    lead: CreateLeadRequest
    client_address: str
    def __init__(self, form_key: _Optional[str] = ..., lead: _Optional[_Union[CreateLeadRequest, _Mapping]] = ..., client_address: _Optional[str] = ...) -> None: ...

class SubmitWebFormResponse(_message.Message):
    __slots__ = ("lead_id",)
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    def __init__(self, lead_id: _Optional[str] = ...) -> None: ...

class LeadScoringRule(_message.Message):
    __slots__ = ("id", "name", "field", "values", "event_type", "points", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    field: str
    values: _containers.RepeatedScalarFieldContainer[str]
    event_type: str
    points: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., field: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ..., event_type: _Optional[str] = ..., points: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateLeadScoringRuleRequest(_message.Message):
    __slots__ = ("name", "field", "values", "event_type", "points")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    field: str
    values: _containers.RepeatedScalarFieldContainer[str]
    event_type: str
    points: int
    def __init__(self, name: _Optional[str] = ..., field: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ..., event_type: _Optional[str] = ..., points: _Optional[int] = ...) -> None: ...

class GetLeadScoringRuleRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListLeadScoringRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListLeadScoringRulesResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[LeadScoringRule]
    def __init__(self, items: _Optional[_Iterable[_Union[LeadScoringRule, _Mapping]]] = ...) -> None: ...

class UpdateLeadScoringRuleRequest(_message.Message):
    __slots__ = ("rule", "update_mask")
    RULE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    rule: LeadScoringRule
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, rule: _Optional[_Union[LeadScoringRule, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteLeadScoringRuleRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class LeadAssignmentRule(_message.Message):
    __slots__ = ("id", "name", "priority", "countries", "regions", "team_id", "user_ids", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    priority: int
    countries: _containers.RepeatedScalarFieldContainer[str]
    regions: _containers.RepeatedScalarFieldContainer[str]
    team_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., priority: _Optional[int] = ..., countries: _Optional[_Iterable[str]] = ..., regions: _Optional[_Iterable[str]] = ..., team_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateLeadAssignmentRuleRequest(_message.Message):
    __slots__ = ("name", "priority", "countries", "regions", "team_id", "user_ids")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    priority: int
    countries: _containers.RepeatedScalarFieldContainer[str]
    regions: _containers.RepeatedScalarFieldContainer[str]
    team_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., priority: _Optional[int] = ..., countries: _Optional[_Iterable[str]] = ..., regions: _Optional[_Iterable[str]] = ..., team_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetLeadAssignmentRuleRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListLeadAssignmentRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListLeadAssignmentRulesResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[LeadAssignmentRule]
    def __init__(self, items: _Optional[_Iterable[_Union[LeadAssignmentRule, _Mapping]]] = ...) -> None: ...

class DeleteLeadAssignmentRuleRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class LeadForm(_message.Message):
    __slots__ = ("id", "key", "name", "source", "campaign_id", "partner_account_id", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    key: str
    name: str
    source: str
    campaign_id: str
    partner_account_id: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., key: _Optional[str] = ..., name: _Optional[str] = ..., source: _Optional[str] = ..., campaign_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateLeadFormRequest(_message.Message):
    __slots__ = ("name", "source", "campaign_id", "partner_account_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    source: str
    campaign_id: str
    partner_account_id: str
    def __init__(self, name: _Optional[str] = ..., source: _Optional[str] = ..., campaign_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class GetLeadFormRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListLeadFormsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListLeadFormsResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[LeadForm]
    def __init__(self, items: _Optional[_Iterable[_Union[LeadForm, _Mapping]]] = ...) -> None: ...
