from crm.common.v1 import money_pb2 as _money_pb2
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
    __slots__ = ("contact_id", "open_deals", "won_deals", "open_orders", "open_tasks", "open_pipeline_value")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_DEALS_FIELD_NUMBER: _ClassVar[int]
    WON_DEALS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    OPEN_TASKS_FIELD_NUMBER: _ClassVar[int]
    OPEN_PIPELINE_VALUE_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    open_deals: int
    won_deals: int
    open_orders: int
    open_tasks: int
    open_pipeline_value: _containers.RepeatedCompositeFieldContainer[_money_pb2.Money]
    def __init__(self, contact_id: _Optional[str] = ..., open_deals: _Optional[int] = ..., won_deals: _Optional[int] = ..., open_orders: _Optional[int] = ..., open_tasks: _Optional[int] = ..., open_pipeline_value: _Optional[_Iterable[_Union[_money_pb2.Money, _Mapping]]] = ...) -> None: ...
