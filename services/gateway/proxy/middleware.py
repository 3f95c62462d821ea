"""The forwarding path: a lean ASGI middleware that answers proxied prefixes before FastAPI's
routing, admits the caller (token, organisation, rate limit), and streams the request and the
response through without buffering them.

Hop-by-hop headers (RFC 9110 7.6.1) are dropped both ways; ``X-Request-ID`` is set from the
correlation id; the caller's ``Authorization`` goes on, so the service checks the token again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from asgi_correlation_id import correlation_id
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.access.admission import Admission
from services.gateway.proxy.forwarders import (
    Body,
    Forwarder,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from shared.kit.problems import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_URI,
    DomainProblem,
    GatewayTimeout,
    ServiceUnavailable,
    localized,
)

logger = logging.getLogger("sinergi.gateway.proxy")

# Path prefix -> service. /v1/changes is deliberately absent: feeds are for services only.
ROUTES: dict[str, str] = {
    "/v1/residents": "registry",
    "/v1/households": "registry",
    "/v1/regions": "registry",
    "/v1/audit": "registry",
    "/v1/cohorts": "registry",
    "/v1/villages": "registry",
    "/v1/follow-ups": "registry",
    "/v1/notifications": "registry",
    "/v1/grievances": "registry",
    "/v1/opportunities": "opportunities",
    "/v1/skills": "opportunities",
    "/v1/matching": "matching",
    "/v1/placements": "matching",
    "/v1/reports": "reporting",
    "/v1/program": "reporting",
}

# Exact paths the gateway forwards without a bearer token: the SMS gateway's callbacks, which
# sign their body (HMAC-SHA256, X-Sinergi-Signature) for the registry to check instead.
SIGNED_PATHS = frozenset({"/v1/notifications/inbound", "/v1/notifications/receipts"})

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Set by the gateway itself (request id) or by the client library (host).
REQUEST_DROP = HOP_BY_HOP | {b"host", b"x-request-id", b"x-forwarded-for", b"x-forwarded-host"}
RESPONSE_DROP = HOP_BY_HOP | {b"x-request-id", b"server", b"date"}


@dataclass(frozen=True, slots=True)
class Upstream:
    name: str
    base_url: str
    forwarder: Forwarder


def _connection_tokens(headers: Sequence[tuple[bytes, bytes]]) -> set[bytes]:
    """Header names listed in ``Connection`` are hop-by-hop too."""
    names: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            names.update(t.strip().lower() for t in value.split(b",") if t.strip())
    return names


async def send_problem(send: Send, problem: DomainProblem, scope: Scope | None = None) -> None:
    """``scope``: the request's, whose Accept-Language picks the problem's language."""
    accept = None
    if scope is not None:
        raw = next((v for k, v in scope["headers"] if k == b"accept-language"), None)
        accept = raw.decode("latin-1") if raw else None
    content, language = localized(problem.marshal(uri=PROBLEM_TYPE_URI), accept)
    body = json.dumps(content).encode()
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"vary", b"Accept-Language"),
        (b"content-language", language.encode()),
    ]
    headers.extend((k.lower().encode(), v.encode()) for k, v in (problem.headers or {}).items())
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ProxyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        upstreams: dict[str, Upstream],
        admission: Admission,
        routes: dict[str, str] | None = None,
    ) -> None:
        self.app = app
        self.upstreams = upstreams
        self.admission = admission
        self.routes = routes or ROUTES

    def match(self, path: str) -> Upstream | None:
        # "/v1/residents" or "/v1/residents/...": the first two segments pick the service.
        # ``path`` is the raw path, the one forwarded: routing on the decoded one would let a
        # path be routed as one thing and reach the service as another.
        parts = path.split("/", 3)
        if len(parts) < 3:
            return None
        service = self.routes.get("/" + parts[1] + "/" + parts[2])
        return self.upstreams.get(service) if service else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        upstream = self.match(raw_path.decode("latin-1"))
        if upstream is None:
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        drop = REQUEST_DROP | _connection_tokens(headers)
        if raw_path.decode("latin-1") in SIGNED_PATHS and scope["method"] == "POST":
            # No token is asked for, and none is passed on: the signature is the credential.
            drop = drop | {b"authorization"}
        else:
            authorization = next((v for k, v in headers if k == b"authorization"), None)
            try:
                principal = await self.admission.admit(
                    authorization.decode("latin-1") if authorization else None
                )
            except DomainProblem as problem:
                await send_problem(send, problem, scope)
                return
            # Request.state of the access log: it records the organisation, never the person.
            scope.setdefault("state", {})["principal"] = principal

        forward = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers if k not in drop]
        request_id = correlation_id.get()
        if request_id:
            forward.append(("x-request-id", request_id))
        client = scope.get("client")
        if client:
            forward.append(("x-forwarded-for", str(client[0])))
        host = next((v for k, v in headers if k == b"host"), None)
        if host:
            forward.append(("x-forwarded-host", host.decode("latin-1")))

        url = upstream.base_url + raw_path.decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")

        body = await _request_body(receive, headers)
        try:
            response = await upstream.forwarder.open(scope["method"], url, forward, body)
        except UpstreamUnavailable:
            logger.warning("upstream unavailable", extra={"service": upstream.name})
            await send_problem(
                send, ServiceUnavailable(f"the {upstream.name} service is unavailable"), scope
            )
            return
        except UpstreamTimeout:
            logger.warning("upstream timeout", extra={"service": upstream.name})
            await send_problem(
                send,
                GatewayTimeout(f"the {upstream.name} service did not answer in time"),
                scope,
            )
            return
        try:
            drop = RESPONSE_DROP | _connection_tokens(response.headers)
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status,
                    "headers": [(k, v) for k, v in response.headers if k.lower() not in drop],
                }
            )
            async for chunk in response.body:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.close()


async def _request_body(receive: Receive, headers: Sequence[tuple[bytes, bytes]]) -> Body:
    """The request body: bytes when it came in one message (most JSON), else a stream."""
    if not any(k in (b"content-length", b"transfer-encoding") for k, _ in headers):
        return None
    first = await receive()
    chunk: bytes = first.get("body", b"")
    if not first.get("more_body", False):
        return chunk

    async def stream() -> AsyncIterator[bytes]:
        yield chunk
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            data: bytes = message.get("body", b"")
            if data:
                yield data
            if not message.get("more_body", False):
                return

    return stream()
