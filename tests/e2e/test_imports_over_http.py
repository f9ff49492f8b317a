"""Imports, exports and the `crm` CLI against the real platform (gateway under gunicorn, every service's
serve and worker): a multipart upload runs in the contacts worker as its caller, with exact row errors
as CSV, no welcome for imported contacts unless asked; the export streams what the caller may read, with
formula-like cells neutralised, and is audited; the CLI signs in, imports with a progress bar, exports,
lists and gets."""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

PASSWORD = "imports-e2e-password-1"
CRM = str(Path(sys.executable).with_name("crm"))


class _Http(requests.Session):
    """requests with a timeout on every call."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", 60)
        return super().request(*args, **kwargs)


HTTP = _Http()


@dataclass
class Cast:
    url: str
    admin: str
    rep_a: str
    rep_b: str
    rep_a_email: str
    run: str


def _ok(reply: requests.Response, status: int = 200) -> Any:
    assert reply.status_code == status, (reply.status_code, reply.text[:500])
    return reply.json() if reply.content else None


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def cast(platform) -> Iterator[Cast]:
    url = platform.config.gateway_url
    admin_client = platform.client()
    admin = admin_client.token
    run = secrets.token_hex(4)
    tokens, emails = {}, {}
    for name in ("a", "b"):
        team = _ok(
            HTTP.post(f"{url}/api/v1/teams", json={"name": f"I{name}-{run}"}, headers=_auth(admin)), 201
        )
        email = f"imports-rep-{name}-{run}@example.com"
        body = {
            "email": email,
            "name": name,
            "password": PASSWORD,
            "roles": ["sales_rep"],
            "team_ids": [team["id"]],
        }
        _ok(HTTP.post(f"{url}/api/v1/users", json=body, headers=_auth(admin)), 201)
        login = HTTP.post(f"{url}/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        tokens[name], emails[name] = _ok(login)["access_token"], email
    yield Cast(url, admin, tokens["a"], tokens["b"], emails["a"], run)
    admin_client.close()


def upload(
    cast: Cast, token: str, content: bytes, filename: str = "people.csv", **form: str
) -> requests.Response:
    return HTTP.post(
        f"{cast.url}/api/v1/imports",
        files={"file": (filename, content)},
        data=form,
        headers=_auth(token),
        timeout=60,
    )


def wait(cast: Cast, token: str, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = _ok(HTTP.get(f"{cast.url}/api/v1/imports/{job_id}", headers=_auth(token)))
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError("the import did not end")


def test_an_upload_is_imported_by_the_worker_as_its_caller(cast: Cast) -> None:
    run = cast.run
    rows = [
        "E-mail,First Name,Surname,Company",
        f'ann-{run}@example.com,Ann,Able,=HYPERLINK("http://evil")',
        "not-an-email,Bad,Row,",
        f"bob-{run}@example.com,,Baker,Bakery",
        f"cy-{run}@example.com,@Cy,Cole,+Plus",
    ]
    reply = upload(cast, cast.rep_a, ("\n".join(rows) + "\n").encode())
    job = _ok(reply, 202)
    assert reply.headers["Location"] == f"/api/v1/imports/{job['id']}"
    assert job["mapping"] == {
        "E-mail": "email",
        "First Name": "first_name",
        "Surname": "last_name",
        "Company": "company",
    }
    assert job["state"] in ("queued", "running", "done") and job["rows_total"] == 4
    job = wait(cast, cast.rep_a, job["id"])
    assert (job["state"], job["created"], job["failed"], job["rows_done"]) == ("done", 2, 2, 4)
    errors = HTTP.get(f"{cast.url}/api/v1/imports/{job['id']}/errors.csv", headers=_auth(cast.rep_a))
    assert errors.status_code == 200 and errors.headers["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(errors.text))) == [
        ["row", "column", "message"],
        ["3", "E-mail", "must be a valid email address"],
        ["4", "First Name", "must be at least 1 characters"],
    ]
    # Another user cannot see the job; the errors as JSON are transcoded from the contract.
    other = HTTP.get(f"{cast.url}/api/v1/imports/{job['id']}", headers=_auth(cast.rep_b))
    assert other.status_code == 404
    listed = _ok(HTTP.get(f"{cast.url}/api/v1/imports/{job['id']}/errors", headers=_auth(cast.rep_a)))
    assert [e["row"] for e in listed["items"]] == [3, 4]


def test_a_dry_run_writes_nothing_and_bad_input_is_a_problem(cast: Cast) -> None:
    content = f"email,first_name,last_name\ndry-{cast.run}@example.com,D,R\n".encode()
    job = wait(cast, cast.rep_a, _ok(upload(cast, cast.rep_a, content, dry_run="true"), 202)["id"])
    assert (job["dry_run"], job["created"], job["failed"]) == (True, 1, 0)
    found = _ok(
        HTTP.get(
            f"{cast.url}/api/v1/contacts",
            params={"filter": f'email = "dry-{cast.run}@example.com"'},
            headers=_auth(cast.rep_a),
        )
    )
    assert found["items"] == []
    refused = upload(cast, cast.rep_a, b"name,town\na,b\n")
    assert refused.status_code == 422 and refused.headers["Content-Type"].startswith(
        "application/problem+json"
    )
    assert HTTP.post(f"{cast.url}/api/v1/imports", json={}, headers=_auth(cast.rep_a)).status_code == 415
    assert upload(cast, "nobody", content).status_code == 401
    # A retried upload with one Idempotency-Key is one job.
    key = {"Idempotency-Key": f"import-{cast.run}"}
    first, again = (
        HTTP.post(
            f"{cast.url}/api/v1/imports",
            files={"file": ("d.csv", content)},
            data={"dry_run": "true"},
            headers={**_auth(cast.rep_a), **key},
        )
        for _ in range(2)
    )
    assert _ok(first, 202)["id"] == _ok(again, 202)["id"]


def _welcomes(cast: Cast, contact_id: str) -> list[Any]:
    view = _ok(HTTP.get(f"{cast.url}/api/v1/customers/{contact_id}/360", headers=_auth(cast.admin)))
    return (view.get("notifications") or {}).get("items") or []


def test_imported_contacts_get_a_welcome_only_when_asked(cast: Cast) -> None:
    quiet = f"quiet-{cast.run}@example.com"
    loud = f"loud-{cast.run}@example.com"
    wait(
        cast,
        cast.admin,
        _ok(upload(cast, cast.admin, f"email,first_name,last_name\n{quiet},Q,Q\n".encode()), 202)["id"],
    )
    job = _ok(
        upload(cast, cast.admin, f"email,first_name,last_name\n{loud},L,L\n".encode(), notify="true"), 202
    )
    wait(cast, cast.admin, job["id"])
    ids = {}
    for email in (quiet, loud):
        page = _ok(
            HTTP.get(
                f"{cast.url}/api/v1/contacts",
                params={"filter": f'email = "{email}"'},
                headers=_auth(cast.admin),
            )
        )
        ids[email] = page["items"][0]["id"]
    deadline = time.monotonic() + 30
    while not _welcomes(cast, ids[loud]):
        assert time.monotonic() < deadline, "the asked-for welcome never came"
        time.sleep(0.3)
    time.sleep(1.0)  # the quiet one's event was published first
    assert _welcomes(cast, ids[quiet]) == []


def test_the_export_streams_what_the_caller_may_read_neutralised_and_audited(cast: Cast) -> None:
    run = cast.run
    HTTP.post(
        f"{cast.url}/api/v1/contacts",
        json={"first_name": "Other", "last_name": "Team", "email": f"other-{run}@example.com"},
        headers=_auth(cast.rep_b),
    )
    reply = HTTP.get(
        f"{cast.url}/api/v1/contacts:export",
        params={
            "filter": f'email = "ann-{run}@example.com" OR email = "cy-{run}@example.com" OR '
            f'email = "other-{run}@example.com"',
            "order_by": "email",
        },
        headers=_auth(cast.rep_a),
        stream=True,
    )
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(reply.text)))
    assert [r["email"] for r in table] == [f"ann-{run}@example.com", f"cy-{run}@example.com"]  # not rep b's
    assert table[0]["company"] == '\'=HYPERLINK("http://evil")'
    assert (table[1]["first_name"], table[1]["company"]) == ("'@Cy", "'+Plus")
    assert "id" in table[0] and "owner_id" in table[0]
    lines = HTTP.get(
        f"{cast.url}/api/v1/contacts:export",
        params={"filter": f'email = "cy-{run}@example.com"', "format": "jsonl"},
        headers=_auth(cast.rep_a),
    ).text.splitlines()
    assert [json.loads(line)["company"] for line in lines] == ["+Plus"]  # JSON is data, not formulas
    bad = HTTP.get(
        f"{cast.url}/api/v1/contacts:export", params={"filter": "nope ="}, headers=_auth(cast.rep_a)
    )
    assert bad.status_code in (400, 422)
    audit = _ok(
        HTTP.get(
            f"{cast.url}/api/v1/audit-events",
            params={"action": "contacts.exported"},
            headers=_auth(cast.admin),
        )
    )
    mine = [e for e in audit["items"] if e["details"].get("filter", "").startswith(f'email = "ann-{run}')]
    assert mine and mine[0]["details"]["format"] == "csv"


def crm(cast: Cast, home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRM_URL": cast.url, "XDG_CONFIG_HOME": str(home), "CRM_PASSWORD": PASSWORD}
    env.pop("CRM_TOKEN", None)
    env.pop("CRM_API_KEY", None)
    return subprocess.run([CRM, *args], env=env, capture_output=True, text=True, timeout=120, input=stdin)


def test_the_cli_end_to_end(cast: Cast, tmp_path: Path) -> None:
    run = cast.run
    signed = crm(cast, tmp_path, "login", "--email", cast.rep_a_email)
    assert signed.returncode == 0, signed.stderr
    assert (tmp_path / "crm" / "credentials.json").stat().st_mode & 0o077 == 0
    people = tmp_path / "people.csv"
    people.write_text(f"Mail,Given,Family\ncli-{run}@example.com,Cli,User\nbroken,X,Y\n")
    imported = crm(
        cast,
        tmp_path,
        "contacts",
        "import",
        str(people),
        "--map",
        "Mail=email",
        "--map",
        "Given=first_name",
        "--map",
        "Family=last_name",
    )
    assert imported.returncode == 0, imported.stderr
    job = json.loads(imported.stdout)
    assert (job["state"], job["created"], job["failed"]) == ("done", 1, 1)
    assert "100% 2/2 rows" in imported.stderr and f"crm imports errors {job['id']}" in imported.stderr
    errors = crm(cast, tmp_path, "imports", "errors", job["id"])
    assert errors.stdout.splitlines()[1] == "3,Mail,must be a valid email address"
    exported = crm(cast, tmp_path, "contacts", "export", "--filter", f'email = "cli-{run}@example.com"')
    assert exported.returncode == 0, exported.stderr
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [r["first_name"] for r in table] == ["Cli"]
    listed = crm(cast, tmp_path, "list", "contacts", "--filter", f'email = "cli-{run}@example.com"')
    contact = json.loads(listed.stdout.splitlines()[0])
    got = crm(cast, tmp_path, "get", "contacts", contact["id"])
    assert json.loads(got.stdout)["email"] == f"cli-{run}@example.com"
    unknown = crm(cast, tmp_path, "list", "no-such-things")
    assert unknown.returncode != 0 and "contacts" in unknown.stderr


def _listed(cast: Cast, token: str, collection: str, filter_text: str) -> list[dict[str, Any]]:
    """The first page of a collection's list, filtered."""
    reply = HTTP.get(f"{cast.url}/api/v1/{collection}", params={"filter": filter_text}, headers=_auth(token))
    return list(_ok(reply)["items"])


def test_a_multipart_import_upserts_by_its_external_id_column(cast: Cast) -> None:
    run = cast.run
    first = "\n".join(
        [
            "External ID,E-mail,First Name,Surname",
            f"ext-{run}-1,first-{run}@example.com,Ext,One",
            f"ext-{run}-2,second-{run}@example.com,Ext,Two",
        ]
    )
    job = wait(cast, cast.rep_a, _ok(upload(cast, cast.rep_a, (first + "\n").encode()), 202)["id"])
    assert job["mapping"]["External ID"] == "external_id"
    assert (job["state"], job["created"], job["failed"]) == ("done", 2, 0)
    # The person's email changed in the other system: the row finds them by their external id.
    again = f"External ID,E-mail,First Name,Surname\next-{run}-1,moved-{run}@example.com,Ext,One\n"
    job = wait(cast, cast.rep_a, _ok(upload(cast, cast.rep_a, again.encode()), 202)["id"])
    assert (job["created"], job["updated"], job["failed"]) == (0, 1, 0)
    found = _listed(cast, cast.rep_a, "contacts", f'external_id = "ext-{run}-1"')
    assert [(c["email"], c["external_id"]) for c in found] == [(f"moved-{run}@example.com", f"ext-{run}-1")]
    # Unique in the book: a create over REST with a taken external id is a 409 problem.
    taken = HTTP.post(
        f"{cast.url}/api/v1/contacts",
        json={
            "first_name": "T",
            "last_name": "T",
            "email": f"t-{run}@example.com",
            "external_id": f"ext-{run}-2",
        },
        headers=_auth(cast.rep_a),
    )
    assert taken.status_code == 409 and taken.headers["Content-Type"].startswith("application/problem+json")


def test_a_company_import_reports_its_bad_rows_as_csv(cast: Cast) -> None:
    run = cast.run
    rows = [
        "Company Name,Domain,City,Country,Legacy ID",
        f"Acme {run},acme-{run}.example.com,Springfield,US,erp-{run}-1",
        f",nameless-{run}.example.com,,,erp-{run}-2",
        f"Bad {run},not a domain,,,erp-{run}-3",
        f"Nowhere {run},nowhere-{run}.example.com,,ZZ,erp-{run}-4",
    ]
    reply = upload(cast, cast.rep_a, ("\n".join(rows) + "\n").encode(), "companies.csv", resource="companies")
    job = _ok(reply, 202)
    assert job["resource"] == "companies" and job["mapping"] == {
        "Company Name": "name",
        "Domain": "domain",
        "City": "address.city",
        "Country": "address.country",
        "Legacy ID": "external_id",
    }
    job = wait(cast, cast.rep_a, job["id"])
    assert (job["state"], job["created"], job["failed"], job["rows_done"]) == ("done", 1, 3, 4)
    errors = HTTP.get(f"{cast.url}/api/v1/imports/{job['id']}/errors.csv", headers=_auth(cast.rep_a))
    assert errors.status_code == 200
    table = list(csv.reader(io.StringIO(errors.text)))
    assert table[0] == ["row", "column", "message"]
    assert [(r[0], r[1]) for r in table[1:]] == [("3", "Company Name"), ("4", "Domain"), ("5", "Country")]
    # Imported again with the domain written otherwise: the same company, by its external id.
    again = f"Company Name,Domain,Legacy ID\nAcme {run},WWW.ACME-{run}.EXAMPLE.COM,erp-{run}-1\n"
    job = wait(
        cast, cast.rep_a, _ok(upload(cast, cast.rep_a, again.encode(), resource="companies"), 202)["id"]
    )
    assert (job["created"], job["updated"], job["skipped"], job["failed"]) == (0, 0, 1, 0)
    found = _listed(cast, cast.rep_a, "companies", f'external_id = "erp-{run}-1"')
    assert [(c["domain"], c["address"]["city"]) for c in found] == [
        (f"acme-{run}.example.com", "Springfield")
    ]
    refused = upload(cast, cast.rep_a, b"name,town\na,b\n", resource="companies")
    assert refused.status_code == 422
