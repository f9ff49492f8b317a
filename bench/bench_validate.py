"""CPU cost per message of the contract's field rules and of the platform's JSON mapping, without a server.

Every request a service receives is checked against its contract's `buf.validate` rules
(`crm_platform.validation.contract_violations`, protovalidate), and every REST body and response goes
through `crm_platform.protojson`. This times, in microseconds per message and in one run:

- protovalidate on a valid and an invalid `CreateContactRequest` (five fields, each one broken) and on an
  `UpdateContactRequest` (a whole contact and a field mask), against `SerializeToString` of the same
  message: the cheapest thing anything does with a message, as the yardstick;
- `protojson.encode` / `protojson.decode_into` of a `Contact` against protobuf's own
  `json_format.MessageToDict` / `ParseDict` (proto field names and every field printed, the closest
  settings to the platform's mapping). The two mappings differ on purpose (null for unset values, short enum
  names, strict decoding naming every bad field), so this is the price of those choices, not a race.

Figures are this process's CPU time (not wall-clock: on a shared machine that would also count waiting
for a CPU), best of REPEATS timing runs, each long enough (>= 0.4 s) for the clock not to matter; the
median is printed too so a disturbed run shows. `.venv/bin/python bench/bench_validate.py` prints them;
bench/run_all.py puts them in RESULTS.md.
"""

from __future__ import annotations

import os
import statistics
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from crm.contacts.v1 import contacts_pb2
from crm_platform import protojson
from crm_platform.validation import contract_violations

REPEATS = 7
STAMP = Timestamp(seconds=1_767_225_600, nanos=123_456_000)

VALID_CREATE = contacts_pb2.CreateContactRequest(
    first_name="Ada",
    last_name="Lovelace",
    email="ada@example.com",
    phone="+44 20 7946 0000",
    company="Analytical Engines Ltd",
)
# Every field breaks a rule: empty, control character, not an email, letters in a phone, too long.
INVALID_CREATE = contacts_pb2.CreateContactRequest(
    first_name="",
    last_name="Love\x07lace",
    email="not-an-email",
    phone="call me",
    company="x" * 201,
)
CONTACT = contacts_pb2.Contact(
    id="7f1c0c2e-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
    first_name="Ada",
    last_name="Lovelace",
    email="ada@example.com",
    phone="+44 20 7946 0000",
    company="Analytical Engines Ltd",
    created_at=STAMP,
    updated_at=STAMP,
    etag="3",
)
UPDATE = contacts_pb2.UpdateContactRequest(
    contact=CONTACT, update_mask=FieldMask(paths=["first_name", "phone"])
)


@dataclass(frozen=True)
class Timing:
    label: str
    best_us: float
    median_us: float
    note: str = ""


@dataclass
class ValidateResults:
    load_average_at_start: tuple[float, float, float]
    protovalidate: list[Timing] = field(default_factory=list)
    json: list[Timing] = field(default_factory=list)
    invalid_fields: int = 0  # violations reported for INVALID_CREATE, to show it is really invalid


def time_per_call(label: str, fn: Callable[[], Any], note: str = "") -> Timing:
    timer = timeit.Timer(fn, timer=time.process_time)
    number, _ = timer.autorange()
    number = max(number, 1) * 2  # autorange stops at >= 0.2 s; double it for steadier figures
    runs = [seconds / number * 1e6 for seconds in timer.repeat(REPEATS, number)]
    return Timing(label, min(runs), statistics.median(runs), note)


def _decode(data: dict[str, Any]) -> contacts_pb2.Contact:
    target = contacts_pb2.Contact()
    protojson.decode_into(data, target)
    return target


def _parse(data: dict[str, Any]) -> contacts_pb2.Contact:
    target = contacts_pb2.Contact()
    json_format.ParseDict(data, target)
    return target


def run() -> ValidateResults:
    results = ValidateResults(os.getloadavg())
    violations = contract_violations(INVALID_CREATE)
    if contract_violations(VALID_CREATE) or contract_violations(UPDATE) or len(violations) < 5:
        raise RuntimeError(f"the sample messages are not what they claim to be: {violations}")
    results.invalid_fields = len(violations)
    results.protovalidate = [
        time_per_call("SerializeToString, CreateContactRequest (yardstick)", VALID_CREATE.SerializeToString),
        time_per_call("protovalidate, valid CreateContactRequest", lambda: contract_violations(VALID_CREATE)),
        time_per_call(
            "protovalidate, invalid CreateContactRequest",
            lambda: contract_violations(INVALID_CREATE),
            f"{len(violations)} violations collected",
        ),
        time_per_call("SerializeToString, UpdateContactRequest (yardstick)", UPDATE.SerializeToString),
        time_per_call(
            "protovalidate, UpdateContactRequest", lambda: contract_violations(UPDATE), "whole contact + mask"
        ),
    ]
    platform_json = protojson.encode(CONTACT)
    canonical = json_format.MessageToDict(
        CONTACT, always_print_fields_with_no_presence=True, preserving_proto_field_name=True
    )
    if _decode(platform_json) != CONTACT or _parse(canonical) != CONTACT:
        raise RuntimeError("a JSON round trip does not give the contact back")
    results.json = [
        time_per_call("protojson.encode, Contact", lambda: protojson.encode(CONTACT)),
        time_per_call(
            "json_format.MessageToDict, Contact",
            lambda: json_format.MessageToDict(
                CONTACT, always_print_fields_with_no_presence=True, preserving_proto_field_name=True
            ),
        ),
        time_per_call("protojson.decode_into, Contact", lambda: _decode(platform_json)),
        time_per_call("json_format.ParseDict, Contact", lambda: _parse(canonical)),
    ]
    return results


def print_results(results: ValidateResults) -> None:
    load = ", ".join(f"{x:.2f}" for x in results.load_average_at_start)
    print(f"validation and JSON, CPU µs per message (best of {REPEATS}; median), load average {load}")
    rows = results.protovalidate + results.json
    width = max(len(t.label) for t in rows)
    for t in rows:
        print(f"  {t.label:<{width}}  {t.best_us:7.2f}  ({t.median_us:.2f}){'  ' + t.note if t.note else ''}")


if __name__ == "__main__":
    print_results(run())
