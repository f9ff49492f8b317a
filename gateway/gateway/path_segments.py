"""What a path variable matches: one segment, up to a colon or a dot.

The API names custom methods with a colon after the resource (AIP-136: `POST /contacts/{id}:merge`).
With Flask's default converter (`[^/]+`) the resource's own rule, `/contacts/<id>`, matched
`/contacts/X:merge` too, as id "X:merge": `GET` on a custom method's path reached Get with a
nonsense id, and `OPTIONS` advertised the resource's methods (GET, PATCH, DELETE) in its `Allow`
header. A rendering of a record follows it after a dot (`GET /quotes/{id}.pdf`), and `/quotes/<id>`
matched that as well (its PATCH advertised there). Ids, keys, tokens and role names never hold a colon
or a dot, so a variable stops at either: such a request is now a 405 naming the path's own methods.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import BaseConverter


class PathSegment(BaseConverter):
    regex = "[^/:.]+"


def install(app: Flask) -> None:
    """Make PathSegment the converter of every `<variable>` without one; before any rule is added."""
    app.url_map.converters["default"] = PathSegment
