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

class OrderApprovalState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_APPROVAL_STATE_UNSPECIFIED: _ClassVar[OrderApprovalState]
    ORDER_APPROVAL_STATE_NOT_REQUIRED: _ClassVar[OrderApprovalState]
    ORDER_APPROVAL_STATE_PENDING: _ClassVar[OrderApprovalState]
    ORDER_APPROVAL_STATE_APPROVED: _ClassVar[OrderApprovalState]
    ORDER_APPROVAL_STATE_REJECTED: _ClassVar[OrderApprovalState]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_SUBMITTED: _ClassVar[OrderStatus]
    ORDER_STATUS_CONFIRMED: _ClassVar[OrderStatus]
    ORDER_STATUS_SHIPPED: _ClassVar[OrderStatus]
    ORDER_STATUS_DELIVERED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]
ORDER_APPROVAL_STATE_UNSPECIFIED: OrderApprovalState
ORDER_APPROVAL_STATE_NOT_REQUIRED: OrderApprovalState
ORDER_APPROVAL_STATE_PENDING: OrderApprovalState
ORDER_APPROVAL_STATE_APPROVED: OrderApprovalState
ORDER_APPROVAL_STATE_REJECTED: OrderApprovalState
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_SUBMITTED: OrderStatus
ORDER_STATUS_CONFIRMED: OrderStatus
ORDER_STATUS_SHIPPED: OrderStatus
ORDER_STATUS_DELIVERED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus

class OrderApproval(_message.Message):
    __slots__ = ("state", "reasons", "threshold", "requested_by", "requested_at", "decided_by", "decided_at", "reason")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    state: OrderApprovalState
    reasons: _containers.RepeatedScalarFieldContainer[str]
    threshold: _money_pb2.Money
    requested_by: str
    requested_at: _timestamp_pb2.Timestamp
    decided_by: str
    decided_at: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, state: _Optional[_Union[OrderApprovalState, str]] = ..., reasons: _Optional[_Iterable[str]] = ..., threshold: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., requested_by: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_by: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("product_id", "sku", "name", "quantity", "unit_price", "net", "tax_rate_bp", "tax", "total", "discount")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    TAX_RATE_BP_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    sku: str
    name: str
    quantity: int
    unit_price: _money_pb2.Money
    net: _money_pb2.Money
    tax_rate_bp: int
    tax: _money_pb2.Money
    total: _money_pb2.Money
    discount: _money_pb2.Money
    def __init__(self, product_id: _Optional[str] = ..., sku: _Optional[str] = ..., name: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., net: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., tax_rate_bp: _Optional[int] = ..., tax: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class OrderTotal(_message.Message):
    __slots__ = ("net", "tax", "grand_total")
    NET_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    GRAND_TOTAL_FIELD_NUMBER: _ClassVar[int]
    net: _money_pb2.Money
    tax: _money_pb2.Money
    grand_total: _money_pb2.Money
    def __init__(self, net: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., grand_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("id", "number", "contact_id", "company_id", "status", "price_list_id", "currency", "lines", "total", "paid", "balance", "due_at", "overdue_at", "notes", "cancel_reason", "owner_id", "team_id", "partner_account_id", "actor_id", "placed_at", "created_at", "updated_at", "archived_at", "etag", "quote_id", "approval", "payment_terms_days")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PRICE_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_AT_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    PLACED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_DAYS_FIELD_NUMBER: _ClassVar[int]
    id: str
    number: str
    contact_id: str
    company_id: str
    status: OrderStatus
    price_list_id: str
    currency: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    total: OrderTotal
    paid: _money_pb2.Money
    balance: _money_pb2.Money
    due_at: _timestamp_pb2.Timestamp
    overdue_at: _timestamp_pb2.Timestamp
    notes: str
    cancel_reason: str
    owner_id: str
    team_id: str
    partner_account_id: str
    actor_id: str
    placed_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    archived_at: _timestamp_pb2.Timestamp
    etag: str
    quote_id: str
    approval: OrderApproval
    payment_terms_days: int
    def __init__(self, id: _Optional[str] = ..., number: _Optional[str] = ..., contact_id: _Optional[str] = ..., company_id: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., price_list_id: _Optional[str] = ..., currency: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., total: _Optional[_Union[OrderTotal, _Mapping]] = ..., paid: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., balance: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overdue_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., notes: _Optional[str] = ..., cancel_reason: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., placed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., quote_id: _Optional[str] = ..., approval: _Optional[_Union[OrderApproval, _Mapping]] = ..., payment_terms_days: _Optional[int] = ...) -> None: ...

class OrderLineRequest(_message.Message):
    __slots__ = ("product_id", "quantity")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    quantity: int
    def __init__(self, product_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class CreateOrderRequest(_message.Message):
    __slots__ = ("lines", "contact_id", "company_id", "price_list_id", "notes", "payment_terms_days", "owner_id", "team_id", "partner_account_id")
    LINES_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_DAYS_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[OrderLineRequest]
    contact_id: str
    company_id: str
    price_list_id: str
    notes: str
    payment_terms_days: int
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, lines: _Optional[_Iterable[_Union[OrderLineRequest, _Mapping]]] = ..., contact_id: _Optional[str] = ..., company_id: _Optional[str] = ..., price_list_id: _Optional[str] = ..., notes: _Optional[str] = ..., payment_terms_days: _Optional[int] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
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

class ListOrdersResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Order]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListOrderHistoryRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ConfirmOrderRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ShipOrderRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeliverOrderRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ApproveOrderRequest(_message.Message):
    __slots__ = ("id", "etag", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RejectOrderRequest(_message.Message):
    __slots__ = ("id", "etag", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("id", "etag", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class OrderPlaced(_message.Message):
    __slots__ = ("order_id", "number", "contact_id", "company_id", "owner_id", "team_id", "partner_account_id", "placed_at", "total", "actor_id", "version", "order")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PLACED_AT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    number: str
    contact_id: str
    company_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    placed_at: _timestamp_pb2.Timestamp
    total: _money_pb2.Money
    actor_id: str
    version: int
    order: Order
    def __init__(self, order_id: _Optional[str] = ..., number: _Optional[str] = ..., contact_id: _Optional[str] = ..., company_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., placed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class OrderStatusChanged(_message.Message):
    __slots__ = ("order_id", "number", "contact_id", "owner_id", "team_id", "partner_account_id", "from_status", "to_status", "actor_id", "version", "changed_fields", "changed_at")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    number: str
    contact_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    from_status: str
    to_status: str
    actor_id: str
    version: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    changed_at: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., number: _Optional[str] = ..., contact_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., from_status: _Optional[str] = ..., to_status: _Optional[str] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderApprovalEvent(_message.Message):
    __slots__ = ("order_id", "number", "contact_id", "company_id", "owner_id", "team_id", "partner_account_id", "status", "total", "actor_id", "version", "changed_fields", "occurred_at", "reason", "approval")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    number: str
    contact_id: str
    company_id: str
    owner_id: str
    team_id: str
    partner_account_id: str
    status: str
    total: _money_pb2.Money
    actor_id: str
    version: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    occurred_at: _timestamp_pb2.Timestamp
    reason: str
    approval: OrderApproval
    def __init__(self, order_id: _Optional[str] = ..., number: _Optional[str] = ..., contact_id: _Optional[str] = ..., company_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., status: _Optional[str] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., approval: _Optional[_Union[OrderApproval, _Mapping]] = ...) -> None: ...
