from buf.validate import validate_pb2 as _validate_pb2
from crm.contacts.v1 import companies_pb2 as _companies_pb2
from crm.contacts.v1 import contacts_pb2 as _contacts_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DuplicateReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DUPLICATE_REASON_UNSPECIFIED: _ClassVar[DuplicateReason]
    DUPLICATE_REASON_SAME_EMAIL: _ClassVar[DuplicateReason]
    DUPLICATE_REASON_SAME_PHONE: _ClassVar[DuplicateReason]
    DUPLICATE_REASON_SIMILAR_NAME_SAME_COMPANY: _ClassVar[DuplicateReason]
DUPLICATE_REASON_UNSPECIFIED: DuplicateReason
DUPLICATE_REASON_SAME_EMAIL: DuplicateReason
DUPLICATE_REASON_SAME_PHONE: DuplicateReason
DUPLICATE_REASON_SIMILAR_NAME_SAME_COMPANY: DuplicateReason

class ListContactDuplicatesRequest(_message.Message):
    __slots__ = ("id", "limit")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListContactDuplicatesResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ContactDuplicate]
    def __init__(self, items: _Optional[_Iterable[_Union[ContactDuplicate, _Mapping]]] = ...) -> None: ...

class ContactDuplicate(_message.Message):
    __slots__ = ("contact", "score", "reasons", "name_similarity")
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    NAME_SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    contact: _contacts_pb2.Contact
    score: float
    reasons: _containers.RepeatedScalarFieldContainer[DuplicateReason]
    name_similarity: float
    def __init__(self, contact: _Optional[_Union[_contacts_pb2.Contact, _Mapping]] = ..., score: _Optional[float] = ..., reasons: _Optional[_Iterable[_Union[DuplicateReason, str]]] = ..., name_similarity: _Optional[float] = ...) -> None: ...

class MergeContactsRequest(_message.Message):
    __slots__ = ("id", "source_ids", "field_choices", "dry_run")
    class FieldChoicesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IDS_FIELD_NUMBER: _ClassVar[int]
    FIELD_CHOICES_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    id: str
    source_ids: _containers.RepeatedScalarFieldContainer[str]
    field_choices: _containers.ScalarMap[str, str]
    dry_run: bool
    def __init__(self, id: _Optional[str] = ..., source_ids: _Optional[_Iterable[str]] = ..., field_choices: _Optional[_Mapping[str, str]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class MergeContactsResponse(_message.Message):
    __slots__ = ("contact", "merged_ids", "dry_run")
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    MERGED_IDS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    contact: _contacts_pb2.Contact
    merged_ids: _containers.RepeatedScalarFieldContainer[str]
    dry_run: bool
    def __init__(self, contact: _Optional[_Union[_contacts_pb2.Contact, _Mapping]] = ..., merged_ids: _Optional[_Iterable[str]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class MergeCompaniesRequest(_message.Message):
    __slots__ = ("id", "source_ids", "field_choices", "dry_run")
    class FieldChoicesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IDS_FIELD_NUMBER: _ClassVar[int]
    FIELD_CHOICES_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    id: str
    source_ids: _containers.RepeatedScalarFieldContainer[str]
    field_choices: _containers.ScalarMap[str, str]
    dry_run: bool
    def __init__(self, id: _Optional[str] = ..., source_ids: _Optional[_Iterable[str]] = ..., field_choices: _Optional[_Mapping[str, str]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class MergeCompaniesResponse(_message.Message):
    __slots__ = ("company", "merged_ids", "dry_run")
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    MERGED_IDS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    company: _companies_pb2.Company
    merged_ids: _containers.RepeatedScalarFieldContainer[str]
    dry_run: bool
    def __init__(self, company: _Optional[_Union[_companies_pb2.Company, _Mapping]] = ..., merged_ids: _Optional[_Iterable[str]] = ..., dry_run: _Optional[bool] = ...) -> None: ...
