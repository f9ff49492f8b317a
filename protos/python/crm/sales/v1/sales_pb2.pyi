from crm.common.v1 import money_pb2 as _money_pb2
from crm.sales.v1 import activities_pb2 as _activities_pb2
from crm.sales.v1 import deals_pb2 as _deals_pb2
from crm.sales.v1 import orders_pb2 as _orders_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetSalesSummaryRequest(_message.Message):
    __slots__ = ("contact_id",)
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    def __init__(self, contact_id: _Optional[str] = ...) -> None: ...

class SalesSummary(_message.Message):
    __slots__ = ("contact_id", "open_deals", "won_deals", "open_orders", "open_tasks", "open_pipeline_value", "open_deal_list", "last_orders", "purchase_history", "outstanding_balance", "lifetime_value", "next_task")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_DEALS_FIELD_NUMBER: _ClassVar[int]
    WON_DEALS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    OPEN_TASKS_FIELD_NUMBER: _ClassVar[int]
    OPEN_PIPELINE_VALUE_FIELD_NUMBER: _ClassVar[int]
    OPEN_DEAL_LIST_FIELD_NUMBER: _ClassVar[int]
    LAST_ORDERS_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_VALUE_FIELD_NUMBER: _ClassVar[int]
    NEXT_TASK_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    open_deals: int
    won_deals: int
    open_orders: int
    open_tasks: int
    open_pipeline_value: _containers.RepeatedCompositeFieldContainer[_money_pb2.Money]
    open_deal_list: _containers.RepeatedCompositeFieldContainer[_deals_pb2.Deal]
    last_orders: _containers.RepeatedCompositeFieldContainer[_orders_pb2.Order]
    purchase_history: _containers.RepeatedCompositeFieldContainer[PurchaseYear]
    outstanding_balance: _containers.RepeatedCompositeFieldContainer[_money_pb2.Money]
    lifetime_value: _containers.RepeatedCompositeFieldContainer[_money_pb2.Money]
    next_task: _activities_pb2.Task
    def __init__(self, contact_id: _Optional[str] = ..., open_deals: _Optional[int] = ..., won_deals: _Optional[int] = ..., open_orders: _Optional[int] = ..., open_tasks: _Optional[int] = ..., open_pipeline_value: _Optional[_Iterable[_Union[_money_pb2.Money, _Mapping]]] = ..., open_deal_list: _Optional[_Iterable[_Union[_deals_pb2.Deal, _Mapping]]] = ..., last_orders: _Optional[_Iterable[_Union[_orders_pb2.Order, _Mapping]]] = ..., purchase_history: _Optional[_Iterable[_Union[PurchaseYear, _Mapping]]] = ..., outstanding_balance: _Optional[_Iterable[_Union[_money_pb2.Money, _Mapping]]] = ..., lifetime_value: _Optional[_Iterable[_Union[_money_pb2.Money, _Mapping]]] = ..., next_task: _Optional[_Union[_activities_pb2.Task, _Mapping]] = ...) -> None: ...

class PurchaseYear(_message.Message):
    __slots__ = ("year", "orders", "total")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    year: int
    orders: int
    total: _money_pb2.Money
    def __init__(self, year: _Optional[int] = ..., orders: _Optional[int] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...
