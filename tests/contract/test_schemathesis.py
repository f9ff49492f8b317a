"""Schemathesis (`st run`, every check) over the whole OpenAPI document against the real gateway and the
real services: no server error, no response that breaks its own schema, no undocumented status code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Examples per operation in the fuzzing phase (the coverage phase's boundary and negative cases are all
# sent whatever this says). 10 keeps the suite fast: fuzzing costs ~3 s per example over the ~190
# operations. Raise SCHEMATHESIS_MAX_EXAMPLES for a deeper run: 100 passed on 2026-11-27 (6 min alone).
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))


# Every operation of the document (about 200 with sales): a few minutes, longer on a busy machine (with
# 25 examples: 230 s on 2026-11-26; 350 to 608 s in the clean-clone runs of 2026-11-27, on a machine ~2x
# slower, with the authorization matrix beside it on the other core; with 10: 149 s in a clean clone).
@pytest.mark.timeout(1200)
def test_the_whole_document_holds_against_the_real_platform(platform_gateway, tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    # The token through the document's own security scheme, not a blanket --header: with a header,
    # st's coverage phase also sent a generated X-API-Key (the other scheme the document allows), which
    # the gateway refuses beside a bearer token ("not both"), so ~40 operations were only ever answered
    # 401/403. Configured per scheme, st authenticates as the document says.
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[auth.openapi.bearerAuth]\nbearer = "{platform_gateway.token}"\n')
    command = [
        str(st),
        "--config-file",
        str(config),
        "run",
        f"{platform_gateway.url}/api/v1/openapi.json",
        "--checks",
        "all",
        # The one check left out: "a schema-valid request must be accepted". A schema cannot say what
        # makes an opaque cursor, an etag or a filter expression valid, so such requests are rightly 400.
        # The three bars (no 5xx, no response breaking its schema, no undocumented status) are
        # all checked.
        # And "a deleted resource is gone": DELETE archives, and an archived resource stays readable by its
        # id (its history and the records pointing at it stay), as the contract says.
        "--exclude-checks",
        "positive_data_acceptance,use_after_free",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261125",
        # One worker: with two, hypothesis parses lambdas' source (ast.parse) in two threads at once, which
        # on CPython 3.11.7 can fail with "SystemError: AST constructor recursion depth mismatch"
        # (a CPython bug, fixed in later releases) and aborted the run's coverage phase.
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--generation-deterministic",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    # cwd: schemathesis keeps its replay cassettes in ./.schemathesis
    result = subprocess.run(command, capture_output=True, text=True, timeout=1100, check=False, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
