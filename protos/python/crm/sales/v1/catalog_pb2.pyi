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

class ProductKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRODUCT_KIND_UNSPECIFIED: _ClassVar[ProductKind]
    PRODUCT_KIND_PRODUCT: _ClassVar[ProductKind]
    PRODUCT_KIND_SERVICE: _ClassVar[ProductKind]
PRODUCT_KIND_UNSPECIFIED: ProductKind
PRODUCT_KIND_PRODUCT: ProductKind
PRODUCT_KIND_SERVICE: ProductKind

class Product(_message.Message):
    __slots__ = ("id", "sku", "name", "description", "kind", "unit", "tax_rate_bp", "created_at", "updated_at", "archived_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    TAX_RATE_BP_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    sku: str
    name: str
    description: str
    kind: ProductKind
    unit: str
    tax_rate_bp: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    archived_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., sku: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., kind: _Optional[_Union[ProductKind, str]] = ..., unit: _Optional[str] = ..., tax_rate_bp: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateProductRequest(_message.Message):
    __slots__ = ("sku", "name", "description", "kind", "unit", "tax_rate_bp")
    SKU_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    TAX_RATE_BP_FIELD_NUMBER: _ClassVar[int]
    sku: str
    name: str
    description: str
    kind: ProductKind
    unit: str
    tax_rate_bp: int
    def __init__(self, sku: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., kind: _Optional[_Union[ProductKind, str]] = ..., unit: _Optional[str] = ..., tax_rate_bp: _Optional[int] = ...) -> None: ...

class GetProductRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListProductsRequest(_message.Message):
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

class ListProductsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Product]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Product, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateProductRequest(_message.Message):
    __slots__ = ("product", "update_mask")
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    product: Product
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, product: _Optional[_Union[Product, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class ListProductHistoryRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class DeleteProductRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class Price(_message.Message):
    __slots__ = ("product_id", "unit_amount_minor", "min_quantity")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    MIN_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    unit_amount_minor: int
    min_quantity: int
    def __init__(self, product_id: _Optional[str] = ..., unit_amount_minor: _Optional[int] = ..., min_quantity: _Optional[int] = ...) -> None: ...

class PriceList(_message.Message):
    __slots__ = ("id", "name", "currency", "valid_from", "valid_until", "prices", "partner_account_ids", "created_at", "updated_at", "archived_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    PRICES_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    currency: str
    valid_from: str
    valid_until: str
    prices: _containers.RepeatedCompositeFieldContainer[Price]
    partner_account_ids: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    archived_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., currency: _Optional[str] = ..., valid_from: _Optional[str] = ..., valid_until: _Optional[str] = ..., prices: _Optional[_Iterable[_Union[Price, _Mapping]]] = ..., partner_account_ids: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreatePriceListRequest(_message.Message):
    __slots__ = ("name", "currency", "valid_from", "valid_until", "prices", "partner_account_ids")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    PRICES_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    currency: str
    valid_from: str
    valid_until: str
    prices: _containers.RepeatedCompositeFieldContainer[Price]
    partner_account_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., currency: _Optional[str] = ..., valid_from: _Optional[str] = ..., valid_until: _Optional[str] = ..., prices: _Optional[_Iterable[_Union[Price, _Mapping]]] = ..., partner_account_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetPriceListRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListPriceListsRequest(_message.Message):
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

class ListPriceListsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[PriceList]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[PriceList, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdatePriceListRequest(_message.Message):
    __slots__ = ("price_list", "update_mask")
    PRICE_LIST_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    price_list: PriceList
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, price_list: _Optional[_Union[PriceList, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeletePriceListRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ResolvePriceRequest(_message.Message):
    __slots__ = ("price_list_id", "product_id", "quantity", "on")
    PRICE_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ON_FIELD_NUMBER: _ClassVar[int]
    price_list_id: str
    product_id: str
    quantity: int
    on: str
    def __init__(self, price_list_id: _Optional[str] = ..., product_id: _Optional[str] = ..., quantity: _Optional[int] = ..., on: _Optional[str] = ...) -> None: ...

class ResolvedPrice(_message.Message):
    __slots__ = ("product_id", "price_list_id", "unit_price", "min_quantity", "tax_rate_bp")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    MIN_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TAX_RATE_BP_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    price_list_id: str
    unit_price: _money_pb2.Money
    min_quantity: int
    tax_rate_bp: int
    def __init__(self, product_id: _Optional[str] = ..., price_list_id: _Optional[str] = ..., unit_price: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., min_quantity: _Optional[int] = ..., tax_rate_bp: _Optional[int] = ...) -> None: ...

class PartnerTerms(_message.Message):
    __slots__ = ("partner_account_id", "price_list_id", "credit_limit", "payment_terms_days", "updated_at", "etag", "approval_threshold")
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_DAYS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    partner_account_id: str
    price_list_id: str
    credit_limit: _money_pb2.Money
    payment_terms_days: int
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    approval_threshold: _money_pb2.Money
    def __init__(self, partner_account_id: _Optional[str] = ..., price_list_id: _Optional[str] = ..., credit_limit: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., payment_terms_days: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., approval_threshold: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class GetPartnerTermsRequest(_message.Message):
    __slots__ = ("partner_account_id",)
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    partner_account_id: str
    def __init__(self, partner_account_id: _Optional[str] = ...) -> None: ...

class UpdatePartnerTermsRequest(_message.Message):
    __slots__ = ("terms", "update_mask")
    TERMS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    terms: PartnerTerms
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, terms: _Optional[_Union[PartnerTerms, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...
