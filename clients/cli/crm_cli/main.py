"""`crm`: the CRM platform from the command line, through the gateway.

    crm login [--email E]                     sign in (password from CRM_PASSWORD or a prompt); saved
                                              under ~/.config/crm/ (owner-only)
    crm contacts import FILE [--map COL=FIELD]... [--dry-run] [--notify] [--no-wait]
                                              upload a CSV/XLSX file and follow the job with a progress bar
    crm companies import FILE [--map COL=FIELD]... [--dry-run] [--no-wait]
                                              the same for companies (upserted by external_id, then domain)
    crm contacts export [--filter F] [--order-by O] [--format csv|jsonl] > contacts.csv
    crm imports get|errors|cancel ID         a job; its row errors as CSV; cancel it
    crm list COLLECTION [--filter F] [--order-by O] [--limit N]   JSON lines, every page
    crm get COLLECTION ID                     one record as JSON

Where and as whom: `--url` or CRM_URL (default http://localhost:8080); CRM_API_KEY (an API key) or
CRM_TOKEN (an access token), else what `crm login` saved. Collections are those the gateway's OpenAPI
document lists (`crm list --help-collections`), so a resource added to the platform is usable at once.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from crm_cli.http import Api, ApiError, Credentials

ACTIVE = ("queued", "running")
POLL_SECONDS = 0.5


def _api(args: argparse.Namespace) -> Api:
    return Api(Credentials.load(args.url))


def cmd_login(args: argparse.Namespace) -> int:
    credentials = Credentials.load(args.url)
    email = args.email or os.environ.get("CRM_EMAIL") or input("email: ")
    password = os.environ.get("CRM_PASSWORD") or getpass.getpass("password: ")
    api = Api(credentials)
    answer = api.json("POST", "/api/v1/auth/token", {"email": email, "password": password}, auth=False)
    credentials.access_token = answer["access_token"]
    credentials.refresh_token = answer.get("refresh_token", "")
    credentials.save()
    print(f"signed in to {credentials.url} as {email}", file=sys.stderr)
    return 0


def _mapping(pairs: Sequence[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep or not column or not field:
            raise SystemExit(f"crm: --map wants COLUMN=FIELD, not {pair!r}")
        mapping[column] = field
    return mapping


def progress_line(job: dict[str, Any], width: int = 30) -> str:
    total, done = job.get("rows_total") or 0, job.get("rows_done") or 0
    share = done / total if total else 1.0
    bar = "#" * int(share * width)
    counts = " ".join(f"{k} {job.get(k) or 0}" for k in ("created", "updated", "skipped", "failed"))
    return f"[{bar:<{width}}] {share:4.0%} {done}/{total} rows  {counts}  {job.get('state')}"


def follow(api: Api, job: dict[str, Any], out: TextIO = sys.stderr) -> dict[str, Any]:
    """Poll the job until it ends, drawing a progress bar (one line, redrawn, on a terminal)."""
    tty = out.isatty()
    last = ""
    while True:
        line = progress_line(job)
        if tty:
            out.write("\r" + line)
        elif line != last:
            out.write(line + "\n")
        out.flush()
        last = line
        if job.get("state") not in ACTIVE:
            if tty:
                out.write("\n")
            return job
        time.sleep(POLL_SECONDS)
        job = api.json("GET", f"/api/v1/imports/{job['id']}")


def cmd_import(args: argparse.Namespace) -> int:
    api = _api(args)
    path = Path(args.file)
    fields = {
        "resource": args.resource,
        "dry_run": str(args.dry_run).lower(),
        "notify": str(args.notify).lower(),
    }
    if args.map:
        fields["mapping"] = json.dumps(_mapping(args.map))
    job = api.upload("/api/v1/imports", fields, "file", path.name, path.read_bytes())
    print(f"import {job['id']}: mapping {json.dumps(job.get('mapping', {}))}", file=sys.stderr)
    if args.no_wait:
        print(json.dumps(job))
        return 0
    job = follow(api, job)
    print(json.dumps(job))
    if job.get("failed"):
        print(f"{job['failed']} row(s) refused: crm imports errors {job['id']}", file=sys.stderr)
    return 0 if job.get("state") == "done" else 1


def cmd_export(args: argparse.Namespace) -> int:
    api = _api(args)
    query = {"filter": args.filter, "order_by": args.order_by, "format": args.format}
    api.stream("/api/v1/contacts:export", query, sys.stdout.buffer)
    return 0


def cmd_imports(args: argparse.Namespace) -> int:
    api = _api(args)
    if args.action == "get":
        print(json.dumps(api.json("GET", f"/api/v1/imports/{args.id}"), indent=2))
    elif args.action == "cancel":
        print(json.dumps(api.json("POST", f"/api/v1/imports/{args.id}:cancel", {}), indent=2))
    else:
        api.stream(f"/api/v1/imports/{args.id}/errors.csv", None, sys.stdout.buffer)
    return 0


def collections(api: Api) -> dict[str, dict[str, str]]:
    """Collection -> {"list": path, "get": path template} from the gateway's OpenAPI document."""
    document = api.json("GET", "/api/v1/openapi.json", auth=False)
    found: dict[str, dict[str, str]] = {}
    for path, item in document.get("paths", {}).items():
        parts = path.removeprefix("/api/v1/").split("/")
        if not path.startswith("/api/v1/") or "get" not in item or ":" in parts[0]:
            continue
        if len(parts) == 1:
            found.setdefault(parts[0], {})["list"] = path
        elif len(parts) == 2 and parts[1].startswith("{") and parts[1].endswith("}"):
            found.setdefault(parts[0], {})["get"] = path
    return found


def _collection(api: Api, name: str, kind: str) -> str:
    known = collections(api)
    if name not in known or kind not in known[name]:
        able = sorted(n for n, paths in known.items() if kind in paths)
        raise SystemExit(f"crm: cannot {kind} {name!r}; collections: {', '.join(able)}")
    return known[name][kind]


def cmd_list(args: argparse.Namespace) -> int:
    api = _api(args)
    path = _collection(api, args.collection, "list")
    query = {"filter": args.filter, "order_by": args.order_by, "limit": str(args.page_size)}
    for count, item in enumerate(api.pages(path, {k: v for k, v in query.items() if v}), start=1):
        print(json.dumps(item))
        if args.limit and count >= args.limit:
            break
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    api = _api(args)
    template = _collection(api, args.collection, "get")
    path = template[: template.index("{")] + args.id
    print(json.dumps(api.json("GET", path), indent=2))
    return 0


def _import_parser(resources: Any, resource: str) -> argparse.ArgumentParser:
    """`crm <resource> import FILE ...`: an upload of `resource` (the import's `resource` field)."""
    imp: argparse.ArgumentParser = resources.add_parser(
        "import", help=f"import {resource} from a CSV or XLSX file"
    )
    imp.add_argument("file")
    imp.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD", help="repeatable")
    imp.add_argument("--dry-run", action="store_true", help="validate and count; write nothing")
    imp.add_argument("--no-wait", action="store_true", help="print the queued job and return")
    imp.set_defaults(run=cmd_import, resource=resource, notify=False)
    return imp


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="crm", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument("--url", help="the gateway (default: $CRM_URL or the saved one, else localhost:8080)")
    commands = top.add_subparsers(dest="command", required=True)

    login = commands.add_parser("login", help="sign in and save the tokens")
    login.add_argument("--email")
    login.set_defaults(run=cmd_login)

    contacts = commands.add_parser("contacts", help="import and export contacts").add_subparsers(
        dest="action", required=True
    )
    imp = _import_parser(contacts, "contacts")
    imp.add_argument("--notify", action="store_true", help="send the usual welcome to imported contacts")
    companies = commands.add_parser("companies", help="import companies").add_subparsers(
        dest="action", required=True
    )
    _import_parser(companies, "companies")
    exp = contacts.add_parser("export", help="every contact you may read, to stdout")
    exp.add_argument("--filter", default="")
    exp.add_argument("--order-by", default="")
    exp.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    exp.set_defaults(run=cmd_export)

    jobs = commands.add_parser("imports", help="an import job")
    jobs.add_argument("action", choices=["get", "errors", "cancel"])
    jobs.add_argument("id")
    jobs.set_defaults(run=cmd_imports)

    lister = commands.add_parser("list", help="list a collection (JSON lines)")
    lister.add_argument("collection")
    lister.add_argument("--filter", default="")
    lister.add_argument("--order-by", default="")
    lister.add_argument("--limit", type=int, default=0, help="at most this many (default: all)")
    lister.add_argument("--page-size", type=int, default=200)
    lister.set_defaults(run=cmd_list)

    getter = commands.add_parser("get", help="one record (JSON)")
    getter.add_argument("collection")
    getter.add_argument("id")
    getter.set_defaults(run=cmd_get)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except ApiError as error:
        print(f"crm: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `crm contacts export | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
