import datetime

from buf.validate import validate_pb2 as _validate_pb2
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

class ImportState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_STATE_UNSPECIFIED: _ClassVar[ImportState]
    IMPORT_STATE_QUEUED: _ClassVar[ImportState]
    IMPORT_STATE_RUNNING: _ClassVar[ImportState]
    IMPORT_STATE_DONE: _ClassVar[ImportState]
    IMPORT_STATE_FAILED: _ClassVar[ImportState]
    IMPORT_STATE_CANCELLED: _ClassVar[ImportState]
IMPORT_STATE_UNSPECIFIED: ImportState
IMPORT_STATE_QUEUED: ImportState
IMPORT_STATE_RUNNING: ImportState
IMPORT_STATE_DONE: ImportState
IMPORT_STATE_FAILED: ImportState
IMPORT_STATE_CANCELLED: ImportState

class ImportJob(_message.Message):
    __slots__ = ("id", "resource", "state", "filename", "format", "mapping", "columns", "fields", "dry_run", "notify", "rows_total", "rows_done", "created", "updated", "skipped", "failed", "error", "actor_id", "created_at", "started_at", "finished_at")
    class MappingEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_FIELD_NUMBER: _ClassVar[int]
    ROWS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ROWS_DONE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    resource: str
    state: ImportState
    filename: str
    format: str
    mapping: _containers.ScalarMap[str, str]
    columns: _containers.RepeatedScalarFieldContainer[str]
    fields: _containers.RepeatedScalarFieldContainer[str]
    dry_run: bool
    notify: bool
    rows_total: int
    rows_done: int
    created: int
    updated: int
    skipped: int
    failed: int
    error: str
    actor_id: str
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., resource: _Optional[str] = ..., state: _Optional[_Union[ImportState, str]] = ..., filename: _Optional[str] = ..., format: _Optional[str] = ..., mapping: _Optional[_Mapping[str, str]] = ..., columns: _Optional[_Iterable[str]] = ..., fields: _Optional[_Iterable[str]] = ..., dry_run: _Optional[bool] = ..., notify: _Optional[bool] = ..., rows_total: _Optional[int] = ..., rows_done: _Optional[int] = ..., created: _Optional[int] = ..., updated: _Optional[int] = ..., skipped: _Optional[int] = ..., failed: _Optional[int] = ..., error: _Optional[str] = ..., actor_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateImportRequest(_message.Message):
    __slots__ = ("resource", "filename", "content", "format", "mapping", "dry_run", "notify")
    class MappingEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MAPPING_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_FIELD_NUMBER: _ClassVar[int]
    resource: str
    filename: str
    content: bytes
    format: str
    mapping: _containers.ScalarMap[str, str]
    dry_run: bool
    notify: bool
    def __init__(self, resource: _Optional[str] = ..., filename: _Optional[str] = ..., content: _Optional[bytes] = ..., format: _Optional[str] = ..., mapping: _Optional[_Mapping[str, str]] = ..., dry_run: _Optional[bool] = ..., notify: _Optional[bool] = ...) -> None: ...

class GetImportRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListImportsRequest(_message.Message):
    __slots__ = ("limit", "cursor")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    limit: int
    cursor: str
    def __init__(self, limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListImportsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ImportJob]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[ImportJob, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class CancelImportRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListImportErrorsRequest(_message.Message):
    __slots__ = ("id", "limit", "cursor")
    ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    limit: int
    cursor: str
    def __init__(self, id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ImportError(_message.Message):
    __slots__ = ("row", "column", "message")
    ROW_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    row: int
    column: str
    message: str
    def __init__(self, row: _Optional[int] = ..., column: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ListImportErrorsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ImportError]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[ImportError, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...
