import datetime

from crm.common.v1 import history_pb2 as _history_pb2
from crm.common.v1 import money_pb2 as _money_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DealCreated(_message.Message):
    __slots__ = ("deal_id", "title", "pipeline_id", "stage_id", "amount", "probability", "expected_close_date", "contact_id", "company_id", "lead_id", "actor_id", "version", "created_at", "owner_id", "team_id", "partner_account_id")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CLOSE_DATE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    title: str
    pipeline_id: str
    stage_id: str
    amount: _money_pb2.Money
    probability: int
    expected_close_date: str
    contact_id: str
    company_id: str
    lead_id: str
    actor_id: str
    version: int
    created_at: _timestamp_pb2.Timestamp
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, deal_id: _Optional[str] = ..., title: _Optional[str] = ..., pipeline_id: _Optional[str] = ..., stage_id: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., probability: _Optional[int] = ..., expected_close_date: _Optional[str] = ..., contact_id: _Optional[str] = ..., company_id: _Optional[str] = ..., lead_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class DealUpdated(_message.Message):
    __slots__ = ("deal_id", "actor_id", "version", "changed_fields", "changes", "updated_at", "contact_id", "owner_id", "team_id", "partner_account_id")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    actor_id: str
    version: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    changes: _containers.RepeatedCompositeFieldContainer[_history_pb2.FieldChange]
    updated_at: _timestamp_pb2.Timestamp
    contact_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, deal_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ..., changes: _Optional[_Iterable[_Union[_history_pb2.FieldChange, _Mapping]]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contact_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class DealStageChanged(_message.Message):
    __slots__ = ("deal_id", "title", "pipeline_id", "from_stage_id", "to_stage_id", "to_stage_name", "probability", "actor_id", "version", "changed_at", "contact_id", "owner_id", "team_id", "partner_account_id")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TO_STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TO_STAGE_NAME_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    title: str
    pipeline_id: str
    from_stage_id: str
    to_stage_id: str
    to_stage_name: str
    probability: int
    actor_id: str
    version: int
    changed_at: _timestamp_pb2.Timestamp
    contact_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, deal_id: _Optional[str] = ..., title: _Optional[str] = ..., pipeline_id: _Optional[str] = ..., from_stage_id: _Optional[str] = ..., to_stage_id: _Optional[str] = ..., to_stage_name: _Optional[str] = ..., probability: _Optional[int] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contact_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class DealClosed(_message.Message):
    __slots__ = ("deal_id", "title", "status", "reason", "competitor", "amount", "stage_id", "actor_id", "version", "closed_at", "contact_id", "owner_id", "team_id", "partner_account_id")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    COMPETITOR_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    title: str
    status: str
    reason: str
    competitor: str
    amount: _money_pb2.Money
    stage_id: str
    actor_id: str
    version: int
    closed_at: _timestamp_pb2.Timestamp
    contact_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, deal_id: _Optional[str] = ..., title: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., competitor: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., stage_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contact_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class DealArchived(_message.Message):
    __slots__ = ("deal_id", "actor_id", "version", "archived_at")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    actor_id: str
    version: int
    archived_at: _timestamp_pb2.Timestamp
    def __init__(self, deal_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BigDealDetected(_message.Message):
    __slots__ = ("deal_id", "title", "amount", "threshold", "contact_id", "actor_id", "detected_at", "owner_id", "team_id", "partner_account_id")
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    DETECTED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    deal_id: str
    title: str
    amount: _money_pb2.Money
    threshold: _money_pb2.Money
    contact_id: str
    actor_id: str
    detected_at: _timestamp_pb2.Timestamp
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, deal_id: _Optional[str] = ..., title: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., threshold: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., contact_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., detected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...
