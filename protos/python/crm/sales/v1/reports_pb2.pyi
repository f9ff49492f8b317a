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
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetFunnelReportRequest(_message.Message):
    __slots__ = ("pipeline_id", "period")
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    pipeline_id: str
    period: str
    def __init__(self, pipeline_id: _Optional[str] = ..., period: _Optional[str] = ...) -> None: ...

class FunnelStage(_message.Message):
    __slots__ = ("stage_id", "name", "position", "archived", "entered", "entered_value", "advanced", "conversion_rate", "completed_stays", "average_seconds_in_stage")
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    ENTERED_FIELD_NUMBER: _ClassVar[int]
    ENTERED_VALUE_FIELD_NUMBER: _ClassVar[int]
    ADVANCED_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_RATE_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_STAYS_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_SECONDS_IN_STAGE_FIELD_NUMBER: _ClassVar[int]
    stage_id: str
    name: str
    position: int
    archived: bool
    entered: int
    entered_value: _containers.RepeatedCompositeFieldContainer[_money_pb2.Money]
    advanced: int
    conversion_rate: float
    completed_stays: int
    average_seconds_in_stage: float
    def __init__(self, stage_id: _Optional[str] = ..., name: _Optional[str] = ..., position: _Optional[int] = ..., archived: _Optional[bool] = ..., entered: _Optional[int] = ..., entered_value: _Optional[_Iterable[_Union[_money_pb2.Money, _Mapping]]] = ..., advanced: _Optional[int] = ..., conversion_rate: _Optional[float] = ..., completed_stays: _Optional[int] = ..., average_seconds_in_stage: _Optional[float] = ...) -> None: ...

class FunnelReport(_message.Message):
    __slots__ = ("pipeline_id", "period", "period_start", "period_end", "stages")
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    pipeline_id: str
    period: str
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    stages: _containers.RepeatedCompositeFieldContainer[FunnelStage]
    def __init__(self, pipeline_id: _Optional[str] = ..., period: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stages: _Optional[_Iterable[_Union[FunnelStage, _Mapping]]] = ...) -> None: ...

class GetWinRateReportRequest(_message.Message):
    __slots__ = ("pipeline_id", "period")
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    pipeline_id: str
    period: str
    def __init__(self, pipeline_id: _Optional[str] = ..., period: _Optional[str] = ...) -> None: ...

class WinRateReport(_message.Message):
    __slots__ = ("pipeline_id", "period", "won", "lost", "win_rate", "won_value", "average_cycle_seconds")
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    WON_FIELD_NUMBER: _ClassVar[int]
    LOST_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    WON_VALUE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_CYCLE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    pipeline_id: str
    period: str
    won: int
    lost: int
    win_rate: float
    won_value: _containers.RepeatedCompositeFieldContainer[_money_pb2.Money]
    average_cycle_seconds: float
    def __init__(self, pipeline_id: _Optional[str] = ..., period: _Optional[str] = ..., won: _Optional[int] = ..., lost: _Optional[int] = ..., win_rate: _Optional[float] = ..., won_value: _Optional[_Iterable[_Union[_money_pb2.Money, _Mapping]]] = ..., average_cycle_seconds: _Optional[float] = ...) -> None: ...

class GetForecastReportRequest(_message.Message):
    __slots__ = ("pipeline_id", "period")
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    pipeline_id: str
    period: str
    def __init__(self, pipeline_id: _Optional[str] = ..., period: _Optional[str] = ...) -> None: ...

class ForecastRow(_message.Message):
    __slots__ = ("month", "owner_id", "deals", "amount", "weighted")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    DEALS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_FIELD_NUMBER: _ClassVar[int]
    month: str
    owner_id: str
    deals: int
    amount: _money_pb2.Money
    weighted: _money_pb2.Money
    def __init__(self, month: _Optional[str] = ..., owner_id: _Optional[str] = ..., deals: _Optional[int] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., weighted: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class ForecastTotal(_message.Message):
    __slots__ = ("deals", "amount", "weighted")
    DEALS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_FIELD_NUMBER: _ClassVar[int]
    deals: int
    amount: _money_pb2.Money
    weighted: _money_pb2.Money
    def __init__(self, deals: _Optional[int] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., weighted: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class ForecastReport(_message.Message):
    __slots__ = ("pipeline_id", "period", "rows", "totals")
    PIPELINE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    pipeline_id: str
    period: str
    rows: _containers.RepeatedCompositeFieldContainer[ForecastRow]
    totals: _containers.RepeatedCompositeFieldContainer[ForecastTotal]
    def __init__(self, pipeline_id: _Optional[str] = ..., period: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[ForecastRow, _Mapping]]] = ..., totals: _Optional[_Iterable[_Union[ForecastTotal, _Mapping]]] = ...) -> None: ...

class GetRepKpiReportRequest(_message.Message):
    __slots__ = ("period",)
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    period: str
    def __init__(self, period: _Optional[str] = ...) -> None: ...

class RepKpis(_message.Message):
    __slots__ = ("owner_id", "deals_won", "deals_lost", "revenue", "quota", "quota_attainment", "tasks_completed", "appointments")
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    DEALS_WON_FIELD_NUMBER: _ClassVar[int]
    DEALS_LOST_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    QUOTA_ATTAINMENT_FIELD_NUMBER: _ClassVar[int]
    TASKS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENTS_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    deals_won: int
    deals_lost: int
    revenue: _containers.RepeatedCompositeFieldContainer[_money_pb2.Money]
    quota: _money_pb2.Money
    quota_attainment: float
    tasks_completed: int
    appointments: int
    def __init__(self, owner_id: _Optional[str] = ..., deals_won: _Optional[int] = ..., deals_lost: _Optional[int] = ..., revenue: _Optional[_Iterable[_Union[_money_pb2.Money, _Mapping]]] = ..., quota: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., quota_attainment: _Optional[float] = ..., tasks_completed: _Optional[int] = ..., appointments: _Optional[int] = ...) -> None: ...

class RepKpiReport(_message.Message):
    __slots__ = ("period", "reps")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    REPS_FIELD_NUMBER: _ClassVar[int]
    period: str
    reps: _containers.RepeatedCompositeFieldContainer[RepKpis]
    def __init__(self, period: _Optional[str] = ..., reps: _Optional[_Iterable[_Union[RepKpis, _Mapping]]] = ...) -> None: ...

class Quota(_message.Message):
    __slots__ = ("id", "period", "amount", "owner_id", "team_id", "created_at", "updated_at", "etag", "archived_at", "notes")
    ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    period: str
    amount: _money_pb2.Money
    owner_id: str
    team_id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    archived_at: _timestamp_pb2.Timestamp
    notes: str
    def __init__(self, id: _Optional[str] = ..., period: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., notes: _Optional[str] = ...) -> None: ...

class CreateQuotaRequest(_message.Message):
    __slots__ = ("period", "amount", "owner_id", "team_id", "notes")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    period: str
    amount: _money_pb2.Money
    owner_id: str
    team_id: str
    notes: str
    def __init__(self, period: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., notes: _Optional[str] = ...) -> None: ...

class GetQuotaRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListQuotasRequest(_message.Message):
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

class ListQuotasResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Quota]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Quota, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateQuotaRequest(_message.Message):
    __slots__ = ("quota", "update_mask")
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    quota: Quota
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, quota: _Optional[_Union[Quota, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteQuotaRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ListQuotaHistoryRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class QuotaEvent(_message.Message):
    __slots__ = ("quota_id", "period", "amount", "owner_id", "team_id", "actor_id", "version", "changed_fields", "changes", "occurred_at", "quota")
    QUOTA_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    quota_id: str
    period: str
    amount: _money_pb2.Money
    owner_id: str
    team_id: str
    actor_id: str
    version: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    changes: _containers.RepeatedCompositeFieldContainer[_history_pb2.FieldChange]
    occurred_at: _timestamp_pb2.Timestamp
    quota: Quota
    def __init__(self, quota_id: _Optional[str] = ..., period: _Optional[str] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ..., changes: _Optional[_Iterable[_Union[_history_pb2.FieldChange, _Mapping]]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., quota: _Optional[_Union[Quota, _Mapping]] = ...) -> None: ...
