"""httpx clients for service-to-service calls: pooled, with timeouts, retries on connection
errors only (httpx's transport retries), the request id propagated and a service token."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from functools import cache
from typing import Any

import httpx
from asgi_correlation_id import correlation_id

TokenSource = Callable[[], Awaitable[str]]
# A token is renewed this long before it expires, so no call carries one about to lapse.
RENEW_BEFORE_SECONDS = 60


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context (CA bundle loaded) for every transport the process makes. httpx builds
    a new one per transport otherwise: loading the CA bundle takes milliseconds of the event
    loop, and a feed consumer whose token fetch fails makes a transport every poll (profiled on
    the registry under load: a sixth of its busy time while the gateway was unreachable)."""
    return httpx.create_ssl_context()


class CachedToken:
    """An access token as a token endpoint answered it, held until a minute before it expires:
    the one cache of every client of the gateway (services here, the pilot's organisations),
    each behind its own lock (asyncio's or threading's)."""

    def __init__(self) -> None:
        self._token: str | None = None
        self._expires_at = 0.0

    def fresh(self) -> str | None:
        """The token while it is fresh; None when there is none or it is due for renewal."""
        if self._token is None or time.monotonic() > self._expires_at - RENEW_BEFORE_SECONDS:
            return None
        return self._token

    def keep(self, body: Mapping[str, Any]) -> str:
        """Keep the token of a token endpoint's answer (RFC 6749 section 5.1)."""
        self._token = str(body["access_token"])
        self._expires_at = time.monotonic() + float(body.get("expires_in", 300))
        return self._token


class ClientCredentialsTokenSource:
    """A service's own access token from the gateway, renewed a minute before it expires."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        timeout: float = 10,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.token_url = token_url
        # Tests pass an ASGITransport around the real gateway app.
        self.transport = transport
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self._cached = CachedToken()
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        async with self._lock:
            token = self._cached.fresh()
            if token is None:
                async with httpx.AsyncClient(
                    timeout=self.timeout,
                    transport=self.transport
                    or httpx.AsyncHTTPTransport(retries=2, verify=tls_context()),
                ) as client:
                    response = await client.post(
                        self.token_url,
                        data={"grant_type": "client_credentials"},
                        auth=(self.client_id, self.client_secret),
                    )
                response.raise_for_status()
                token = self._cached.keep(response.json())
            return token


class BearerAuth(httpx.Auth):
    def __init__(self, token_source: TokenSource) -> None:
        self.token_source = token_source

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await self.token_source()}"
        yield request


async def _propagate_request_id(request: httpx.Request) -> None:
    request_id = correlation_id.get()
    if request_id:
        request.headers.setdefault("X-Request-ID", request_id)


def service_client(
    base_url: str,
    *,
    token_source: TokenSource | None = None,
    timeout_seconds: float = 10.0,
    connect_retries: int = 2,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A pooled client for one other service. ``transport`` lets tests pass an ASGITransport
    around the real app instead of a network connection."""
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport
        or httpx.AsyncHTTPTransport(
            retries=connect_retries,
            verify=tls_context(),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        ),
        timeout=httpx.Timeout(timeout_seconds, connect=min(3.0, timeout_seconds)),
        auth=BearerAuth(token_source) if token_source else None,
        event_hooks={"request": [_propagate_request_id]},
    )
