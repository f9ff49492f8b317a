import datetime

from buf.validate import validate_pb2 as _validate_pb2
from crm.common.v1 import history_pb2 as _history_pb2
from crm.common.v1 import money_pb2 as _money_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QuoteStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUOTE_STATUS_UNSPECIFIED: _ClassVar[QuoteStatus]
    QUOTE_STATUS_DRAFT: _ClassVar[QuoteStatus]
    QUOTE_STATUS_SENT: _ClassVar[QuoteStatus]
    QUOTE_STATUS_ACCEPTED: _ClassVar[QuoteStatus]
    QUOTE_STATUS_REJECTED: _ClassVar[QuoteStatus]
    QUOTE_STATUS_EXPIRED: _ClassVar[QuoteStatus]

class QuoteApprovalState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUOTE_APPROVAL_STATE_UNSPECIFIED: _ClassVar[QuoteApprovalState]
    QUOTE_APPROVAL_STATE_NOT_REQUIRED: _ClassVar[QuoteApprovalState]
    QUOTE_APPROVAL_STATE_PENDING: _ClassVar[QuoteApprovalState]
    QUOTE_APPROVAL_STATE_APPROVED: _ClassVar[QuoteApprovalState]
    QUOTE_APPROVAL_STATE_REJECTED: _ClassVar[QuoteApprovalState]
QUOTE_STATUS_UNSPECIFIED: QuoteStatus
QUOTE_STATUS_DRAFT: QuoteStatus
QUOTE_STATUS_SENT: QuoteStatus
QUOTE_STATUS_ACCEPTED: QuoteStatus
QUOTE_STATUS_REJECTED: QuoteStatus
QUOTE_STATUS_EXPIRED: QuoteStatus
QUOTE_APPROVAL_STATE_UNSPECIFIED: QuoteApprovalState
QUOTE_APPROVAL_STATE_NOT_REQUIRED: QuoteApprovalState
QUOTE_APPROVAL_STATE_PENDING: QuoteApprovalState
QUOTE_APPROVAL_STATE_APPROVED: QuoteApprovalState
QUOTE_APPROVAL_STATE_REJECTED: QuoteApprovalState

class QuoteLine(_message.Message):
    __slots__ = ("product_id", "quantity", "discount_bp", "sku", "name", "unit_price", "subtotal", "discount", "net", "tax_rate_bp", "tax", "total")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_BP_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    TAX_RATE_BP_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    quantity: int
    discount_bp: int
    sku: str
    name: str
    unit_price: _money_pb2.Money
    subtotal: _money_pb2.Money
    discount: _money_pb2.Money
    net: _money_pb2.Money
    tax_rate_bp: int
    tax: _money_pb2.Money
    total: _money_pb2.Money
    def __init__(self, product_id: _Optional[str] = ..., quantity: _Optional[int] = ..., discount_bp: _Optional[int] = ..., sku: _Optional[str] = ..., name: _Optional[str] = ..., unit_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., subtotal: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., net: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., tax_rate_bp: _Optional[int] = ..., tax: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class QuoteTotals(_message.Message):
    __slots__ = ("subtotal", "discount", "net", "tax", "grand_total")
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    GRAND_TOTAL_FIELD_NUMBER: _ClassVar[int]
    subtotal: _money_pb2.Money
    discount: _money_pb2.Money
    net: _money_pb2.Money
    tax: _money_pb2.Money
    grand_total: _money_pb2.Money
    def __init__(self, subtotal: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., net: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., grand_total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class QuoteApproval(_message.Message):
    __slots__ = ("state", "max_discount_bp", "allowed_discount_bp", "requested_by", "requested_at", "decided_by", "decided_at", "reason")
    STATE_FIELD_NUMBER: _ClassVar[int]
    MAX_DISCOUNT_BP_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_DISCOUNT_BP_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    state: QuoteApprovalState
    max_discount_bp: int
    allowed_discount_bp: int
    requested_by: str
    requested_at: _timestamp_pb2.Timestamp
    decided_by: str
    decided_at: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, state: _Optional[_Union[QuoteApprovalState, str]] = ..., max_discount_bp: _Optional[int] = ..., allowed_discount_bp: _Optional[int] = ..., requested_by: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_by: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("id", "number", "contact_id", "company_id", "deal_id", "price_list_id", "currency", "status", "lines", "total", "valid_until", "notes", "approval", "reject_reason", "order_id", "sent_at", "decided_at", "owner_id", "team_id", "partner_account_id", "created_at", "updated_at", "archived_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    number: str
    contact_id: str
    company_id: str
    deal_id: str
    price_list_id: str
    currency: str
    status: QuoteStatus
    lines: _containers.RepeatedCompositeFieldContainer[QuoteLine]
    total: QuoteTotals
    valid_until: str
    notes: str
    approval: QuoteApproval
    reject_reason: str
    order_id: str
    sent_at: _timestamp_pb2.Timestamp
    decided_at: _timestamp_pb2.Timestamp
    owner_id: str
    team_id: str
    partner_account_id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    archived_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., number: _Optional[str] = ..., contact_id: _Optional[str] = ..., company_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., price_list_id: _Optional[str] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[QuoteStatus, str]] = ..., lines: _Optional[_Iterable[_Union[QuoteLine, _Mapping]]] = ..., total: _Optional[_Union[QuoteTotals, _Mapping]] = ..., valid_until: _Optional[str] = ..., notes: _Optional[str] = ..., approval: _Optional[_Union[QuoteApproval, _Mapping]] = ..., reject_reason: _Optional[str] = ..., order_id: _Optional[str] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateQuoteRequest(_message.Message):
    __slots__ = ("lines", "contact_id", "company_id", "deal_id", "price_list_id", "valid_until", "notes", "owner_id", "team_id", "partner_account_id")
    LINES_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[QuoteLine]
    contact_id: str
    company_id: str
    deal_id: str
    price_list_id: str
    valid_until: str
    notes: str
    owner_id: str
    team_id: str
    partner_account_id: str
    def __init__(self, lines: _Optional[_Iterable[_Union[QuoteLine, _Mapping]]] = ..., contact_id: _Optional[str] = ..., company_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., price_list_id: _Optional[str] = ..., valid_until: _Optional[str] = ..., notes: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ...) -> None: ...

class GetQuoteRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RenderQuotePdfRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListQuotesRequest(_message.Message):
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

class ListQuotesResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Quote]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Quote, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateQuoteRequest(_message.Message):
    __slots__ = ("quote", "update_mask")
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    quote: Quote
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, quote: _Optional[_Union[Quote, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class ListQuoteHistoryRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class SendQuoteRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class AcceptQuoteRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class RejectQuoteRequest(_message.Message):
    __slots__ = ("id", "etag", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ApproveQuoteRequest(_message.Message):
    __slots__ = ("id", "etag", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RejectQuoteApprovalRequest(_message.Message):
    __slots__ = ("id", "etag", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class QuoteEvent(_message.Message):
    __slots__ = ("quote_id", "number", "contact_id", "company_id", "deal_id", "owner_id", "team_id", "partner_account_id", "status", "total", "actor_id", "version", "changed_fields", "occurred_at", "reason", "order_id", "approval")
    QUOTE_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DEAL_ID_FIELD_NUMBER: _ClassVar[int]
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
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_FIELD_NUMBER: _ClassVar[int]
    quote_id: str
    number: str
    contact_id: str
    company_id: str
    deal_id: str
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
    order_id: str
    approval: QuoteApproval
    def __init__(self, quote_id: _Optional[str] = ..., number: _Optional[str] = ..., contact_id: _Optional[str] = ..., company_id: _Optional[str] = ..., deal_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., status: _Optional[str] = ..., total: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., actor_id: _Optional[str] = ..., version: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., order_id: _Optional[str] = ..., approval: _Optional[_Union[QuoteApproval, _Mapping]] = ...) -> None: ...
