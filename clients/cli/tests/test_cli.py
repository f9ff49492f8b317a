"""The CLI's own logic, without a gateway: the progress line, --map parsing, collections from an OpenAPI
document, the credentials file. (End to end against the real gateway: tests/e2e/test_imports_over_http.py.)"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from crm_cli import main
from crm_cli.http import Credentials


def test_the_progress_line_shows_the_share_and_the_counts() -> None:
    line = main.progress_line(
        {"rows_total": 200, "rows_done": 50, "created": 40, "failed": 10, "state": "running"}
    )
    assert (
        line.startswith("[#######")
        and "25% 50/200 rows" in line
        and "created 40" in line
        and "failed 10" in line
    )


def test_map_pairs_become_a_mapping_and_bad_ones_stop() -> None:
    assert main._mapping(["E-mail=email", "Given Name=first_name"]) == {
        "E-mail": "email",
        "Given Name": "first_name",
    }
    with pytest.raises(SystemExit):
        main._mapping(["email"])


def test_collections_come_from_the_openapi_document() -> None:
    document = {
        "paths": {
            "/api/v1/contacts": {"get": {}, "post": {}},
            "/api/v1/contacts/{id}": {"get": {}},
            "/api/v1/contacts:export": {"get": {}},
            "/api/v1/imports/{id}/errors.csv": {"get": {}},
            "/api/v1/auth/token": {"post": {}},
        }
    }

    class FakeApi:
        def json(self, *_args: Any, **_kwargs: Any) -> Any:
            return document

    assert main.collections(FakeApi()) == {  # type: ignore[arg-type]
        "contacts": {"list": "/api/v1/contacts", "get": "/api/v1/contacts/{id}"}
    }


def test_credentials_are_saved_for_the_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("CRM_TOKEN", raising=False)
    monkeypatch.delenv("CRM_URL", raising=False)
    Credentials("http://gw:8080", "access", "refresh").save()
    path = tmp_path / "crm" / "credentials.json"
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = Credentials.load()
    assert (loaded.url, loaded.access_token, loaded.refresh_token) == ("http://gw:8080", "access", "refresh")
    assert json.loads(path.read_text())["url"] == "http://gw:8080"


def test_the_progress_bar_redraws_one_line_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    main.follow(None, {"id": "j", "rows_total": 2, "rows_done": 2, "state": "done"}, out)  # type: ignore[arg-type]
    assert out.getvalue().startswith("\r[") and out.getvalue().endswith("\n")


class _Uploads:
    """An Api that records uploads and answers with a finished job."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str], str]] = []

    def upload(self, path: str, fields: dict[str, str], name: str, filename: str, content: bytes) -> Any:
        self.sent.append((path, fields, filename))
        return {"id": "j1", "state": "done", "mapping": {}, "rows_total": 1, "rows_done": 1, "failed": 0}


@pytest.mark.parametrize(("resource", "extra"), [("contacts", ["--notify"]), ("companies", [])])
def test_contacts_and_companies_import_upload_their_resource(
    resource: str, extra: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = _Uploads()
    monkeypatch.setattr(main, "_api", lambda args: api)
    data = tmp_path / "rows.csv"
    data.write_text("Name,Domain\nAcme,acme.com\n")
    assert main.main([resource, "import", str(data), "--map", "Name=name", "--dry-run", *extra]) == 0
    path, fields, filename = api.sent[0]
    assert (path, filename, fields["resource"], fields["dry_run"]) == (
        "/api/v1/imports",
        "rows.csv",
        resource,
        "true",
    )
    assert json.loads(fields["mapping"]) == {"Name": "name"} and fields["notify"] == str(bool(extra)).lower()
    with pytest.raises(SystemExit):  # a welcome is for contacts only
        main.parser().parse_args(["companies", "import", str(data), "--notify"])
