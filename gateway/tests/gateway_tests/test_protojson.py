"""The platform's one JSON mapping (crm_platform.protojson): what REST clients and event consumers read.

Most cases use a test-only message compiled here with protoc (every kind of field in one place, in a
private descriptor pool); the rest use the platform's own contracts, so their JSON is pinned as well.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2, message_factory, struct_pb2
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_tools import protoc

from crm.common.v1 import history_pb2, money_pb2
from crm.contacts.v1 import contacts_pb2
from crm_platform import protojson
from crm_platform.protobuf import timestamp

KITCHEN_PROTO = """
syntax = "proto3";

package protojson_test.v1;

import "google/protobuf/duration.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

enum HTTPVerb {
  HTTP_VERB_UNSPECIFIED = 0;
  HTTP_VERB_GET = 1;
  HTTP_VERB_DEEP_PATCH = 2;
}

enum Alias {
  option allow_alias = true;
  ALIAS_UNSPECIFIED = 0;
  ALIAS_FIRST = 1;
  ALIAS_SAME = 1;
}

message Inner {
  int32 count = 1;
  string label = 2;
  repeated string tags = 3;
}

message Kitchen {
  string text = 1;
  optional string maybe_text = 2;
  int32 small = 3;
  int64 big = 4;
  uint64 unsigned_big = 5;
  sint32 signed_small = 6;
  double ratio = 7;
  float ratio32 = 8;
  bool flag = 9;
  optional int32 maybe_count = 10;
  bytes blob = 11;
  HTTPVerb verb = 12;
  Alias alias = 13;
  Inner inner = 14;
  repeated Inner inners = 15;
  repeated int64 bigs = 16;
  repeated HTTPVerb verbs = 17;
  map<string, Inner> by_name = 18;
  map<int32, string> by_number = 19;
  map<string, int64> totals = 20;
  google.protobuf.Timestamp at = 21;
  google.protobuf.Duration timeout = 22;
  google.protobuf.FieldMask mask = 23;
  google.protobuf.Struct attrs = 24;
  google.protobuf.Value anything = 25;
  google.protobuf.ListValue list = 26;
  google.protobuf.Int64Value wrapped_big = 27;
  google.protobuf.StringValue wrapped_text = 28;
  repeated google.protobuf.Timestamp stamps = 29;
}
"""

MessageClass = Callable[..., Any]


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory: pytest.TempPathFactory) -> MessageClass:
    """The Kitchen message class, compiled from KITCHEN_PROTO into a pool of its own."""
    work = tmp_path_factory.mktemp("protojson")
    (work / "kitchen.proto").write_text(KITCHEN_PROTO)
    well_known = Path(protoc.__file__).parent / "_proto"
    out = work / "kitchen.binpb"
    args = [f"-I{work}", f"-I{well_known}", "--include_imports", f"--descriptor_set_out={out}"]
    assert protoc.main(["grpc_tools.protoc", *args, "kitchen.proto"]) == 0
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file:
        pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("protojson_test.v1.Kitchen"))


def full(kitchen: MessageClass) -> Message:
    """A Kitchen with every field set to a value that is not its default."""
    message = kitchen(
        text="hello",
        maybe_text="maybe",
        small=-7,
        big=2**62 + 1,
        unsigned_big=2**64 - 1,
        signed_small=-(2**31),
        ratio=0.25,
        ratio32=1.5,
        flag=True,
        maybe_count=3,
        blob=b"\x00\xffbytes",
        verb=2,
        alias=1,
        bigs=[2**53 + 1, -(2**63)],
        verbs=[1, 2],
        by_number={1: "one", -2: "minus two"},
        totals={"eur": 2**60},
    )
    message.inner.count = 1
    message.inner.label = "in"
    message.inner.tags.extend(["a", "b"])
    message.inners.add(count=2, label="first")
    message.inners.add(count=3)
    message.by_name["x"].count = 4
    message.at.FromDatetime(datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC))
    message.timeout.FromSeconds(90)
    message.mask.paths.extend(["first_name", "address.city"])
    message.attrs.update({"a": 1, "b": [True, None, "x"], "c": {"d": "e"}})
    message.anything.string_value = "any"
    message.list.extend([1, "two"])
    message.wrapped_big.value = 2**55
    message.wrapped_text.value = "wrapped"
    message.stamps.add(seconds=0)
    return message


# --- encoding ---------------------------------------------------------------------------------------


def test_every_field_is_present_in_field_order_and_no_value_is_null(kitchen) -> None:
    encoded = protojson.encode(kitchen())
    assert list(encoded) == [field.name for field in kitchen.DESCRIPTOR.fields]
    encoded.pop("blob")  # bytes: see test_bytes_are_base64
    assert encoded == {
        "text": None,  # "" and unset are the same in proto3: no value
        "maybe_text": None,
        "small": 0,
        "big": 0,
        "unsigned_big": 0,
        "signed_small": 0,
        "ratio": 0.0,
        "ratio32": 0.0,
        "flag": False,
        "maybe_count": None,
        "verb": None,  # the UNSPECIFIED zero value
        "alias": None,
        "inner": None,
        "inners": [],
        "bigs": [],
        "verbs": [],
        "by_name": {},
        "by_number": {},
        "totals": {},
        "at": None,
        "timeout": None,
        "mask": None,
        "attrs": None,
        "anything": None,
        "list": None,
        "wrapped_big": None,
        "wrapped_text": None,
        "stamps": [],
    }


def test_a_full_message_encodes_to_natural_json(kitchen) -> None:
    encoded = protojson.encode(full(kitchen))
    assert encoded == {
        "text": "hello",
        "maybe_text": "maybe",
        "small": -7,
        "big": 2**62 + 1,
        "unsigned_big": 2**64 - 1,
        "signed_small": -(2**31),
        "ratio": 0.25,
        "ratio32": 1.5,
        "flag": True,
        "maybe_count": 3,
        "blob": "AP9ieXRlcw==",
        "verb": "deep_patch",
        "alias": "first",
        "inner": {"count": 1, "label": "in", "tags": ["a", "b"]},
        "inners": [{"count": 2, "label": "first", "tags": []}, {"count": 3, "label": None, "tags": []}],
        "bigs": [2**53 + 1, -(2**63)],
        "verbs": ["get", "deep_patch"],
        "by_name": {"x": {"count": 4, "label": None, "tags": []}},
        "by_number": {"1": "one", "-2": "minus two"},
        "totals": {"eur": 2**60},
        "at": "2026-01-02T03:04:05.6Z",
        "timeout": "90s",
        "mask": "first_name,address.city",
        "attrs": {"a": 1.0, "b": [True, None, "x"], "c": {"d": "e"}},
        "anything": "any",
        "list": [1.0, "two"],
        "wrapped_big": 2**55,
        "wrapped_text": "wrapped",
        "stamps": ["1970-01-01T00:00:00Z"],
    }


def test_64_bit_integers_stay_exact_json_numbers(kitchen) -> None:
    message = kitchen(big=2**53 + 1, unsigned_big=2**64 - 1, bigs=[-(2**63)], totals={"t": 2**63 - 1})
    wire = orjson.dumps(protojson.encode(message))
    assert b'"big":9007199254740993' in wire  # a number, not the string proto3 JSON would write
    assert json.loads(wire)["unsigned_big"] == 2**64 - 1
    assert json.loads(wire)["bigs"] == [-(2**63)] and json.loads(wire)["totals"] == {"t": 2**63 - 1}
    money = protojson.encode(money_pb2.Money(amount_minor=2**40 + 1, currency="EUR"))
    assert money == {"amount_minor": 2**40 + 1, "currency": "EUR"}


def test_enums_are_short_lower_case_names(kitchen) -> None:
    assert protojson.encode(kitchen(verb=1))["verb"] == "get"  # HTTPVerb: prefix HTTP_VERB_, not H_T_T_P_
    assert protojson.encode(kitchen(alias=1))["alias"] == "first"  # an alias: the first name wins
    assert protojson.encode(kitchen(verbs=[0, 2]))["verbs"] == [None, "deep_patch"]
    assert protojson.encode(kitchen(verb=42))["verb"] == 42  # open enum: a number newer than the contract
    entry = history_pb2.HistoryEntry(action=history_pb2.CHANGE_ACTION_UPDATED)
    assert protojson.encode(entry)["action"] == "updated"
    assert protojson.enum_names(history_pb2.ChangeAction.DESCRIPTOR) == {
        0: None,
        1: "created",
        2: "updated",
        3: "deleted",
    }


@pytest.mark.parametrize(
    ("stamp", "text"),
    [
        (Timestamp(seconds=0), "1970-01-01T00:00:00Z"),
        (Timestamp(seconds=1767323045, nanos=600_000_000), "2026-01-02T03:04:05.6Z"),
        (Timestamp(seconds=1767323045, nanos=1), "2026-01-02T03:04:05.000000001Z"),
        (Timestamp(seconds=1767323045, nanos=123_456_000), "2026-01-02T03:04:05.123456Z"),
        (Timestamp(seconds=-1), "1969-12-31T23:59:59Z"),
        (Timestamp(seconds=253402300799), "9999-12-31T23:59:59Z"),
    ],
)
def test_timestamps_are_rfc_3339_in_utc(kitchen, stamp: Timestamp, text: str) -> None:
    message = kitchen(at={"seconds": stamp.seconds, "nanos": stamp.nanos})  # the class of its own pool
    assert protojson.encode(message)["at"] == text
    assert protojson.encode_any(stamp) == text
    assert protojson.parse_timestamp(text) == stamp.ToDatetime(tzinfo=UTC).replace(
        microsecond=stamp.nanos // 1000
    )


def test_contact_json_has_every_field_and_nulls_for_no_value() -> None:
    stamp = timestamp(datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC))
    contact = contacts_pb2.Contact(
        id="c", first_name="A", last_name="B", email="a@b.co", created_at=stamp, updated_at=stamp, etag="e1"
    )
    encoded = protojson.encode(contact)
    assert {name: encoded[name] for name in list(encoded)[:13]} == {
        "id": "c",
        "first_name": "A",
        "last_name": "B",
        "email": "a@b.co",
        "phone": None,
        "company": None,
        "created_at": "2026-01-02T03:04:05.6Z",
        "updated_at": "2026-01-02T03:04:05.6Z",
        "etag": "e1",
        "archived_at": None,
        "owner_id": None,
        "team_id": None,
        "partner_account_id": None,
    }
    # Every field of the contract is present: lists as [], singular fields without a value as null.
    assert list(encoded) == [field.name for field in contacts_pb2.Contact.DESCRIPTOR.fields]
    assert encoded["emails"] == [] and encoded["tags"] == [] and encoded["birth_date"] is None


def test_explicit_presence_keeps_a_set_zero(kitchen) -> None:
    assert protojson.encode(kitchen(maybe_count=0))["maybe_count"] == 0
    assert protojson.encode(kitchen(wrapped_big={"value": 0}))["wrapped_big"] == 0
    message = kitchen()
    message.inner.SetInParent()
    assert protojson.encode(message)["inner"] == {"count": 0, "label": None, "tags": []}


def test_bytes_are_base64_and_non_finite_floats_null(kitchen) -> None:
    assert protojson.encode(kitchen(blob=b"\x00\x01"))["blob"] == "AAE="
    for value in (math.nan, math.inf, -math.inf):
        encoded = protojson.encode(kitchen(ratio=value, ratio32=value))
        assert encoded["ratio"] is None and encoded["ratio32"] is None


def test_encode_any_gives_well_known_types_their_json_form(kitchen) -> None:
    assert protojson.encode_any(empty_pb2.Empty()) == {}
    struct = struct_pb2.Struct()
    struct.update({"k": [1, {"n": None}]})
    assert protojson.encode_any(struct) == {"k": [1.0, {"n": None}]}
    assert protojson.encode_any(full(kitchen)) == protojson.encode(full(kitchen))


# --- decoding ---------------------------------------------------------------------------------------


def decode(kitchen: MessageClass, data: Any) -> Message:
    message = kitchen()
    protojson.decode_into(data, message)
    return message


def refused(kitchen: MessageClass, data: Any) -> protojson.DecodeError:
    with pytest.raises(protojson.DecodeError) as raised:
        decode(kitchen, data)
    return raised.value


def test_what_encode_writes_decode_reads_back(kitchen) -> None:
    original = full(kitchen)
    wire = json.loads(orjson.dumps(protojson.encode(original)))
    assert decode(kitchen, wire) == original


def test_null_and_absent_both_mean_no_value(kitchen) -> None:
    nulls = {field.name: None for field in kitchen.DESCRIPTOR.fields}
    message = decode(kitchen, nulls)
    assert message == kitchen()
    assert not message.HasField("inner") and not message.HasField("maybe_count")
    assert decode(kitchen, {}) == kitchen()


def test_an_empty_object_still_sets_a_message_field(kitchen) -> None:
    message = decode(kitchen, {"inner": {}, "at": None})
    assert message.HasField("inner") and not message.HasField("at")


def test_integers_must_be_json_integers_in_range(kitchen) -> None:
    message = decode(kitchen, {"big": 2**63 - 1, "unsigned_big": 2**64 - 1, "small": -(2**31), "bigs": [1]})
    assert (message.big, message.unsigned_big, message.small) == (2**63 - 1, 2**64 - 1, -(2**31))
    error = refused(
        kitchen,
        {
            "big": "12",  # proto3's canonical JSON takes numeric strings; this mapping does not
            "small": 2**31,
            "unsigned_big": -1,
            "signed_small": 1.0,
            "maybe_count": True,
            "bigs": [1, 2**63],
        },
    )
    assert error.unknown == {}
    assert error.invalid == {
        "big": "must be an integer",
        "small": f"must be between {-(2**31)} and {2**31 - 1}",
        "unsigned_big": f"must be between 0 and {2**64 - 1}",
        "signed_small": "must be an integer",
        "maybe_count": "must be an integer",
        "bigs[1]": f"must be between {-(2**63)} and {2**63 - 1}",
    }


def test_floats_take_any_finite_number(kitchen) -> None:
    message = decode(kitchen, {"ratio": 2, "ratio32": 0.5})
    assert (message.ratio, message.ratio32) == (2.0, 0.5)
    error = refused(kitchen, {"ratio": "0.5", "ratio32": math.nan})
    assert set(error.invalid) == {"ratio", "ratio32"}
    assert refused(kitchen, {"ratio": math.inf}).invalid == {"ratio": "must be a number"}
    assert refused(kitchen, {"ratio": True}).invalid == {"ratio": "must be a number"}


def test_strings_and_booleans_are_not_coerced(kitchen) -> None:
    error = refused(kitchen, {"text": 5, "flag": "true", "maybe_text": ["x"], "inner": {"label": False}})
    assert error.invalid == {
        "text": "must be a string",
        "flag": "must be true or false",
        "maybe_text": "must be a string",
        "inner.label": "must be a string",
    }


def test_nul_characters_are_refused_wherever_they_are(kitchen) -> None:
    error = refused(
        kitchen,
        {"text": "a\x00b", "inner": {"tags": ["ok", "\x00"]}, "by_number": {"1": "nul\x00"}},
    )
    assert error.invalid == {
        "text": "must not contain NUL characters",
        "inner.tags[1]": "must not contain NUL characters",
        "by_number.1": "must not contain NUL characters",
    }
    assert decode(kitchen, {"text": "tab\tand\nnewline"}).text == "tab\tand\nnewline"


def test_enums_take_their_short_names_only(kitchen) -> None:
    assert decode(kitchen, {"verb": "deep_patch", "verbs": ["get"], "alias": "first"}) == kitchen(
        verb=2, verbs=[1], alias=1
    )
    for value in ("HTTP_VERB_GET", "GET", "unspecified", 1, "same"):
        error = refused(kitchen, {"verb": value} if value != "same" else {"alias": value})
        assert list(error.invalid.values()) in (
            ["must be one of: deep_patch, get"],
            ["must be one of: first"],
        ), value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02t03:04:05z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05.25+02:00", datetime(2026, 1, 2, 1, 4, 5, 250_000, tzinfo=UTC)),
        ("2026-01-01T23:30:00-01:00", datetime(2026, 1, 2, 0, 30, tzinfo=UTC)),
    ],
)
def test_timestamps_are_read_with_their_offset(kitchen, text: str, expected: datetime) -> None:
    message = decode(kitchen, {"at": text, "stamps": [text]})
    assert message.at.ToDatetime(tzinfo=UTC) == expected
    assert message.stamps[0] == message.at


@pytest.mark.parametrize(
    "value",
    ["2026-01-02T03:04:05", "2026-01-02", "yesterday", "", "2026-13-01T00:00:00Z", 1767323045, "9" * 50],
)
def test_timestamps_without_an_offset_or_malformed_are_refused(kitchen, value: Any) -> None:
    error = refused(kitchen, {"at": value})
    assert list(error.invalid) == ["at"] and "RFC 3339" in error.invalid["at"]


def test_unknown_fields_are_named_by_their_full_path(kitchen) -> None:
    error = refused(
        kitchen,
        {
            "txet": "typo",
            "inner": {"count": 1, "cuont": 2},
            "inners": [{}, {"extra": True}],
            "by_name": {"k": {"nope": 1}},
        },
    )
    assert error.unknown == {
        "txet": "is not a field of this request",
        "inner.cuont": "is not a field of this request",
        "inners[1].extra": "is not a field of this request",
        "by_name.k.nope": "is not a field of this request",
    }
    assert error.invalid == {}
    assert "txet" in str(error) and "inners[1].extra" in str(error)


def test_wrong_json_types_are_named_by_their_full_path(kitchen) -> None:
    error = refused(
        kitchen,
        {
            "inner": [1],
            "inners": {"count": 1},
            "by_name": [],
            "bigs": 5,
            "stamps": [None],
            "totals": {"eur": "12"},
        },
    )
    assert error.invalid == {
        "inner": "must be a JSON object",
        "inners": "must be a JSON array",
        "by_name": "must be a JSON object",
        "bigs": "must be a JSON array",
        "stamps[0]": "must not be null",
        "totals.eur": "must be an integer",
    }
    nested = refused(kitchen, {"inners": [{"count": "1"}, None, {"tags": [1]}]})
    assert nested.invalid == {
        "inners[0].count": "must be an integer",
        "inners[1]": "must not be null",
        "inners[2].tags[0]": "must be a string",
    }


def test_unknown_and_invalid_fields_are_reported_together(kitchen) -> None:
    error = refused(kitchen, {"typo": 1, "big": "x", "inner": {"count": []}})
    assert set(error.unknown) == {"typo"}
    assert set(error.invalid) == {"big", "inner.count"}


def test_a_body_that_is_not_an_object_is_named(kitchen) -> None:
    assert refused(kitchen, [1, 2]).invalid == {"(body)": "must be a JSON object"}
    with pytest.raises(protojson.DecodeError) as raised:
        protojson.decode_into("text", kitchen(), path="contact")
    assert raised.value.invalid == {"contact": "must be a JSON object"}
    with pytest.raises(protojson.DecodeError) as prefixed:
        protojson.decode_into({"typo": 1}, kitchen(), path="contact")
    assert prefixed.value.unknown == {"contact.typo": "is not a field of this request"}


def test_field_masks_are_comma_separated_names(kitchen) -> None:
    assert list(decode(kitchen, {"mask": "first_name, address.city,"}).mask.paths) == [
        "first_name",
        "address.city",
    ]
    assert list(decode(kitchen, {"mask": ["a", "b"]}).mask.paths) == ["a", "b"]
    assert refused(kitchen, {"mask": 5}).invalid == {"mask": "must be comma-separated field names"}
    assert refused(kitchen, {"mask": ["a", 1]}).invalid == {"mask": "must be comma-separated field names"}


def test_struct_value_and_list_value_are_plain_json(kitchen) -> None:
    message = decode(
        kitchen, {"attrs": {"a": [1, None, {"b": "c"}]}, "anything": [True], "list": [1, "two", None]}
    )
    assert json.loads(orjson.dumps(protojson.encode(message)["attrs"])) == {"a": [1, None, {"b": "c"}]}
    assert protojson.encode(message)["anything"] == [True]
    assert protojson.encode(message)["list"] == [1, "two", None]
    assert refused(kitchen, {"attrs": [1]}).invalid == {"attrs": "is not a valid Struct"}
    assert refused(kitchen, {"list": {"a": 1}}).invalid == {"list": "is not a valid ListValue"}


def test_durations_wrappers_and_bytes(kitchen) -> None:
    message = decode(kitchen, {"timeout": "1.5s", "wrapped_big": 2**60, "wrapped_text": "", "blob": "AP8="})
    assert message.timeout.ToMilliseconds() == 1500
    assert message.wrapped_big.value == 2**60 and message.HasField("wrapped_text")
    assert message.blob == b"\x00\xff"
    error = refused(kitchen, {"timeout": "soon", "wrapped_big": [], "blob": "not base64!"})
    assert error.invalid == {
        "timeout": "is not a valid Duration",
        "wrapped_big": "is not a valid Int64Value",
        "blob": "must be base64",
    }
    assert refused(kitchen, {"blob": 5}).invalid == {"blob": "must be base64"}


def test_map_keys_are_checked_against_their_type(kitchen) -> None:
    assert dict(decode(kitchen, {"by_number": {"7": "seven", "-1": "minus"}}).by_number) == {
        7: "seven",
        -1: "minus",
    }
    assert refused(kitchen, {"by_number": {"seven": "x"}}).invalid == {
        "by_number.seven": "is not a valid key"
    }


def test_decode_field_sets_one_field_and_names_it_as_asked(kitchen) -> None:
    message = kitchen()
    field = kitchen.DESCRIPTOR.fields_by_name["small"]
    protojson.decode_field(5, message, field, "limit")
    assert message.small == 5
    protojson.decode_field(None, message, field, "limit")  # null: nothing changes
    assert message.small == 5
    with pytest.raises(protojson.DecodeError) as raised:
        protojson.decode_field("five", message, field, "limit")
    assert raised.value.invalid == {"limit": "must be an integer"}


def test_an_update_request_reads_its_resource_and_mask() -> None:
    request = contacts_pb2.UpdateContactRequest()
    protojson.decode_into(
        {"contact": {"id": "c1", "first_name": "Ada", "etag": "e"}, "update_mask": "first_name"}, request
    )
    assert request.contact.first_name == "Ada" and list(request.update_mask.paths) == ["first_name"]
    with pytest.raises(protojson.DecodeError) as raised:
        protojson.decode_into({"contact": {"nickname": "A", "created_at": "noon"}}, request)
    assert raised.value.unknown == {"contact.nickname": "is not a field of this request"}
    assert set(raised.value.invalid) == {"contact.created_at"}


# --- known gaps: strict so that the fix makes these fail until the marker is removed ---------------


def test_a_huge_integer_for_a_double_field_is_invalid_not_a_crash(kitchen) -> None:
    assert refused(kitchen, {"ratio": 10**400}).invalid == {"ratio": "must be a number"}


def test_an_out_of_range_map_key_is_invalid_not_a_crash(kitchen) -> None:
    assert set(refused(kitchen, {"by_number": {str(2**40): "x"}}).invalid) == {f"by_number.{2**40}"}


def test_a_nul_character_in_a_map_key_is_refused(kitchen) -> None:
    refused(kitchen, {"totals": {"a\x00b": 1}})
