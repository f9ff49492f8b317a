import datetime

from buf.validate import validate_pb2 as _validate_pb2
from crm.common.v1 import history_pb2 as _history_pb2
from crm.contacts.v1 import contacts_pb2 as _contacts_pb2
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

class CompanySize(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPANY_SIZE_UNSPECIFIED: _ClassVar[CompanySize]
    COMPANY_SIZE_1_10: _ClassVar[CompanySize]
    COMPANY_SIZE_11_50: _ClassVar[CompanySize]
    COMPANY_SIZE_51_200: _ClassVar[CompanySize]
    COMPANY_SIZE_201_1000: _ClassVar[CompanySize]
    COMPANY_SIZE_1001_5000: _ClassVar[CompanySize]
    COMPANY_SIZE_5001_PLUS: _ClassVar[CompanySize]

class CompanyPersonRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPANY_PERSON_ROLE_UNSPECIFIED: _ClassVar[CompanyPersonRole]
    COMPANY_PERSON_ROLE_EMPLOYEE: _ClassVar[CompanyPersonRole]
    COMPANY_PERSON_ROLE_DECISION_MAKER: _ClassVar[CompanyPersonRole]
    COMPANY_PERSON_ROLE_INFLUENCER: _ClassVar[CompanyPersonRole]
    COMPANY_PERSON_ROLE_CHAMPION: _ClassVar[CompanyPersonRole]
    COMPANY_PERSON_ROLE_BILLING: _ClassVar[CompanyPersonRole]
    COMPANY_PERSON_ROLE_TECHNICAL: _ClassVar[CompanyPersonRole]
    COMPANY_PERSON_ROLE_OTHER: _ClassVar[CompanyPersonRole]
COMPANY_SIZE_UNSPECIFIED: CompanySize
COMPANY_SIZE_1_10: CompanySize
COMPANY_SIZE_11_50: CompanySize
COMPANY_SIZE_51_200: CompanySize
COMPANY_SIZE_201_1000: CompanySize
COMPANY_SIZE_1001_5000: CompanySize
COMPANY_SIZE_5001_PLUS: CompanySize
COMPANY_PERSON_ROLE_UNSPECIFIED: CompanyPersonRole
COMPANY_PERSON_ROLE_EMPLOYEE: CompanyPersonRole
COMPANY_PERSON_ROLE_DECISION_MAKER: CompanyPersonRole
COMPANY_PERSON_ROLE_INFLUENCER: CompanyPersonRole
COMPANY_PERSON_ROLE_CHAMPION: CompanyPersonRole
COMPANY_PERSON_ROLE_BILLING: CompanyPersonRole
COMPANY_PERSON_ROLE_TECHNICAL: CompanyPersonRole
COMPANY_PERSON_ROLE_OTHER: CompanyPersonRole

class Address(_message.Message):
    __slots__ = ("street", "city", "region", "postal_code", "country")
    STREET_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    def __init__(self, street: _Optional[str] = ..., city: _Optional[str] = ..., region: _Optional[str] = ..., postal_code: _Optional[str] = ..., country: _Optional[str] = ...) -> None: ...

class Company(_message.Message):
    __slots__ = ("id", "name", "domain", "industry", "size", "address", "parent_company_id", "website", "phone", "description", "created_at", "updated_at", "etag", "archived_at", "owner_id", "team_id", "partner_account_id", "custom_fields", "external_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PARENT_COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    WEBSITE_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELDS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    domain: str
    industry: str
    size: CompanySize
    address: Address
    parent_company_id: str
    website: str
    phone: str
    description: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    archived_at: _timestamp_pb2.Timestamp
    owner_id: str
    team_id: str
    partner_account_id: str
    custom_fields: _struct_pb2.Struct
    external_id: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., domain: _Optional[str] = ..., industry: _Optional[str] = ..., size: _Optional[_Union[CompanySize, str]] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., parent_company_id: _Optional[str] = ..., website: _Optional[str] = ..., phone: _Optional[str] = ..., description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., custom_fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., external_id: _Optional[str] = ...) -> None: ...

class CreateCompanyRequest(_message.Message):
    __slots__ = ("name", "domain", "industry", "size", "address", "parent_company_id", "website", "phone", "description", "owner_id", "team_id", "partner_account_id", "custom_fields", "external_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PARENT_COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    WEBSITE_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELDS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    domain: str
    industry: str
    size: CompanySize
    address: Address
    parent_company_id: str
    website: str
    phone: str
    description: str
    owner_id: str
    team_id: str
    partner_account_id: str
    custom_fields: _struct_pb2.Struct
    external_id: str
    def __init__(self, name: _Optional[str] = ..., domain: _Optional[str] = ..., industry: _Optional[str] = ..., size: _Optional[_Union[CompanySize, str]] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., parent_company_id: _Optional[str] = ..., website: _Optional[str] = ..., phone: _Optional[str] = ..., description: _Optional[str] = ..., owner_id: _Optional[str] = ..., team_id: _Optional[str] = ..., partner_account_id: _Optional[str] = ..., custom_fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., external_id: _Optional[str] = ...) -> None: ...

class GetCompanyRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListCompaniesRequest(_message.Message):
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

class ListCompaniesResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Company]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Company, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateCompanyRequest(_message.Message):
    __slots__ = ("company", "update_mask")
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    company: Company
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, company: _Optional[_Union[Company, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteCompanyRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ListCompanyHistoryRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class CompanyPerson(_message.Message):
    __slots__ = ("company_id", "contact_id", "role", "title", "is_primary", "created_at", "updated_at", "company", "contact")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    IS_PRIMARY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    contact_id: str
    role: CompanyPersonRole
    title: str
    is_primary: bool
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    company: Company
    contact: _contacts_pb2.Contact
    def __init__(self, company_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., role: _Optional[_Union[CompanyPersonRole, str]] = ..., title: _Optional[str] = ..., is_primary: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., company: _Optional[_Union[Company, _Mapping]] = ..., contact: _Optional[_Union[_contacts_pb2.Contact, _Mapping]] = ...) -> None: ...

class AddCompanyPersonRequest(_message.Message):
    __slots__ = ("company_id", "contact_id", "role", "title", "is_primary")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    IS_PRIMARY_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    contact_id: str
    role: CompanyPersonRole
    title: str
    is_primary: bool
    def __init__(self, company_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., role: _Optional[_Union[CompanyPersonRole, str]] = ..., title: _Optional[str] = ..., is_primary: _Optional[bool] = ...) -> None: ...

class ListCompanyPeopleRequest(_message.Message):
    __slots__ = ("company_id", "limit", "cursor")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    limit: int
    cursor: str
    def __init__(self, company_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListCompanyPeopleResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[CompanyPerson]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[CompanyPerson, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class RemoveCompanyPersonRequest(_message.Message):
    __slots__ = ("company_id", "contact_id")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    contact_id: str
    def __init__(self, company_id: _Optional[str] = ..., contact_id: _Optional[str] = ...) -> None: ...

class ListContactCompaniesRequest(_message.Message):
    __slots__ = ("contact_id", "limit", "cursor")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    limit: int
    cursor: str
    def __init__(self, contact_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListContactCompaniesResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[CompanyPerson]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[CompanyPerson, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...
