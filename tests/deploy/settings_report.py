"""Which settings each package's code reads, and whether given values pass the code's own parsers.

    python settings_report.py contacts.main gateway.main ... < values.json

stdin: a JSON list of [variable, value] pairs (what the deployment files give our containers).
stdout: one JSON object, by module: {"settings": {name: {"required", "secret"}}, "errors": [...]}, or
{"import_error": traceback} when the module does not import.

Settings register themselves when their module is imported, so each module is imported in a process of
its own, forked from one that has already loaded the heavy third-party libraries (none of which declares a
setting): the registry then holds exactly what that package reads, for a fraction of a cold start each.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import sys
import traceback
from typing import Any

# Third-party only: importing crm_platform modules here would register their settings in every child.
PRELOAD = ("grpc", "sqlalchemy.orm", "alembic.context", "pika", "google.protobuf", "opentelemetry.sdk.trace")


def report(module: str, values: list[tuple[str, str]]) -> dict[str, Any]:
    try:
        importlib.import_module(module)
    except Exception:
        return {"import_error": traceback.format_exc()}
    from crm_platform import config

    settings = config.registry()
    errors = set()
    for name, value in values:
        if name in settings:
            try:
                settings[name].get({name: value})
            except config.ConfigError as exc:
                errors.add(exc.message)
    return {
        "settings": {
            name: {"required": s.required and s.default is None, "secret": s.secret}
            for name, s in settings.items()
        },
        "errors": sorted(errors),
    }


def main(modules: list[str]) -> None:
    values = [tuple(pair) for pair in json.load(sys.stdin)]
    for name in PRELOAD:
        importlib.import_module(name)
    # A fresh fork per module (maxtasksperchild=1), so that no module sees another's registrations.
    with multiprocessing.get_context("fork").Pool(len(modules), maxtasksperchild=1) as pool:
        results = pool.starmap(report, [(module, values) for module in modules], chunksize=1)
    print(json.dumps(dict(zip(modules, results, strict=True))))


if __name__ == "__main__":
    main(sys.argv[1:])
