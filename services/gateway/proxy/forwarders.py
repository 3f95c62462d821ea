"""How the proxy reaches a service: aiohttp over a pooled connector in production (the hot
path; httpx costs most of the throughput here, see issue 2), or httpx over any transport,
which lets tests forward to an in-process app through ``httpx.ASGITransport``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import anyio
import httpx
import yarl

Body = bytes | AsyncIterator[bytes] | None


class UpstreamUnavailable(Exception):
    """Nothing answers at the service's address."""


class UpstreamTimeout(Exception):
    """The service did not answer within the upstream timeout."""


@dataclass
class UpstreamResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: AsyncIterator[bytes]
    close: Callable[[], Awaitable[None]]


class Forwarder(Protocol):
    async def open(
        self, method: str, url: str, headers: list[tuple[str, str]], body: Body
    ) -> UpstreamResponse: ...

    async def aclose(self) -> None: ...


class AiohttpForwarder:
    """One pooled aiohttp session, made lazily inside the running event loop."""

    def __init__(self, timeout_seconds: float, max_connections: int = 200) -> None:
        self.timeout = aiohttp.ClientTimeout(
            total=None, connect=min(3.0, timeout_seconds), sock_read=timeout_seconds
        )
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.max_connections, limit_per_host=self.max_connections
                ),
                timeout=self.timeout,
                # Bytes pass through untouched: no decompression, no headers of our own.
                auto_decompress=False,
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
            )
        return self._session

    async def open(
        self, method: str, url: str, headers: list[tuple[str, str]], body: Body
    ) -> UpstreamResponse:
        try:
            response = await self._client().request(
                method,
                # encoded=True: the path goes out byte for byte, as routed. Parsed plainly, yarl
                # decodes %2e and resolves dot segments (issue 13, item 10).
                yarl.URL(url, encoded=True),
                headers=headers,
                data=body,
                allow_redirects=False,
            )
        except TimeoutError as exc:
            raise UpstreamTimeout(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnavailable(type(exc).__name__) from exc
        headers_out = [(k.lower(), v) for k, v in response.raw_headers]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.content.iter_any():
                    yield chunk
            except TimeoutError as exc:
                raise UpstreamTimeout("service stopped sending") from exc

        async def close() -> None:
            response.release()

        return UpstreamResponse(response.status, headers_out, chunks(), close)

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class HttpxForwarder:
    """Forwarding over an httpx transport (tests: ``httpx.ASGITransport(app=service_app)``).
    The timeout is enforced around the wait for response headers, as aiohttp's read timeout
    is, so the 504 path is the same whichever transport is used."""

    def __init__(self, transport: httpx.AsyncBaseTransport, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self.client = httpx.AsyncClient(transport=transport, timeout=timeout_seconds)

    async def open(
        self, method: str, url: str, headers: list[tuple[str, str]], body: Body
    ) -> UpstreamResponse:
        request = self.client.build_request(method, url, headers=headers, content=body)
        try:
            with anyio.fail_after(self.timeout_seconds):
                response = await self.client.send(request, stream=True)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise UpstreamTimeout(str(exc)) from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(type(exc).__name__) from exc
        return UpstreamResponse(
            response.status_code, response.headers.raw, response.aiter_raw(), response.aclose
        )

    async def aclose(self) -> None:
        await self.client.aclose()
