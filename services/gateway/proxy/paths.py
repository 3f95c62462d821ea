"""Refuses, before any routing, a path whose meaning depends on who decodes it (issue 13,
item 10), with a 400 problem (type ``ambiguous-path``) naming ``path``: a dot segment (``.``,
``..``) raw or percent-encoded, an encoded slash or backslash, a raw backslash, or a double
encoding such as ``%252e``.

The gateway routes on the raw path and forwards it byte for byte, but a service, a client
library or a proxy on the way may decode and normalise it: ``/v1/residents/%2e%2e/changes``
was routed as the registry's ``/v1/residents`` and reached as ``/v1/changes``. No path of the
API needs any of these forms, so refusing them leaves one reading of every path.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.proxy.middleware import send_problem
from shared.kit.problems import DomainProblem

# Encoded "/" and "\": a later decoder would see a separator the router did not.
ENCODED_SEPARATORS = (b"%2f", b"%5c")
# What is still an escape after one decoding was encoded twice (``%252e``).
ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


def ambiguity(raw_path: bytes) -> str | None:
    """Why the raw path is ambiguous, or None when every decoder reads it the same way."""
    lowered = raw_path.lower()
    if any(encoded in lowered for encoded in ENCODED_SEPARATORS):
        return "encoded slashes and backslashes are not allowed in the path"
    if ESCAPE.search(unquote(raw_path.decode("latin-1"))):
        return "double percent-encoding is not allowed in the path"
    if b"\\" in raw_path:
        return "backslashes are not allowed in the path"
    for segment in raw_path.split(b"/"):
        if unquote(segment.decode("latin-1")) in (".", ".."):
            return "dot segments are not allowed in the path"
    return None


class AmbiguousPath(DomainProblem, status=400, title="Ambiguous path", type_="ambiguous-path"):
    """400, not 422: no value is wrong, the request line itself has more than one reading."""

    def __init__(self, reason: str) -> None:
        errors = [{"loc": ["path"], "msg": reason, "type": "value_error"}]
        super().__init__(f"path: {reason}", errors=errors)


class AmbiguousPathMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
            reason = ambiguity(raw_path)
            if reason is not None:
                # The path itself is not echoed: it may carry an id a log or body should not.
                await send_problem(send, AmbiguousPath(reason), scope)
                return
        await self.app(scope, receive, send)
