"""A path has one reading (issue 13, item 10): dot segments, raw or encoded, and encoded
slashes, backslashes or double encodings are refused with a 400 problem naming ``path``
before routing, so
``/v1/residents/%2e%2e/changes`` can no longer reach the registry's change feed.

Everything runs as in production: the gateway and the registry each under uvicorn, the
gateway forwarding with its production forwarder, and the requests written to a socket by
hand, so no client library normalises the path before the gateway sees it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from services.gateway.main import create_app
from services.registry.main import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.gateway.support import ADMIN, gateway_settings, token, trusting, uvicorn_server
from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.anyio

AMBIGUOUS = [
    "/v1/residents/%2e%2e/changes",
    "/v1/residents/%2E%2E/changes",
    "/v1/residents/.%2e/changes",
    "/v1/residents/../changes",
    "/v1/residents/./echo",
    "/v1/residents/%2e/echo",
    "/v1/regions/%2e%2e/%2e%2e/readyz",
    "/v1/residents/x%2f..%2f..%2fchanges",
    "/v1/residents/x%5c..%5c..%5cchanges",
    "/v1/residents/%252e%252e/changes",
    "/v1/organisations/%2e%2e/%2e%2e/readyz",
]


@dataclass
class Stack:
    host: str
    port: int
    service_token: str
    admin_token: str


async def raw_get(stack: Stack, path: str, bearer: str) -> tuple[int, bytes]:
    """One HTTP/1.1 request with ``path`` exactly as given on the request line."""
    reader, writer = await asyncio.open_connection(stack.host, stack.port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: gateway.test\r\nAuthorization: Bearer {bearer}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.fixture
async def stack(
    backend: str, databases: DatabaseFactory, gateway_db: str, data_dir: Path
) -> AsyncIterator[Stack]:
    settings = gateway_settings(gateway_db, data_dir)
    registry = create_registry(
        RegistrySettings(database_url=databases.new(backend, "registry"), jwks_url=""),
        verifier=await trusting(settings),
    )
    with uvicorn_server(registry) as registry_url:
        gateway = create_app(
            settings.model_copy(update={"registry_url": registry_url}), configure_logs=False
        )
        try:
            with uvicorn_server(gateway) as url:
                async with httpx.AsyncClient(base_url=url) as client:
                    service = await token(client, "matching-service", "dev-matching-secret")
                    admin = await token(client, *ADMIN)
                address = urlsplit(url)
                assert address.hostname and address.port
                yield Stack(address.hostname, address.port, service, admin)
        finally:
            await gateway.state.aclose()
            gateway.state.db.dispose()
            registry.state.db.dispose()


@pytest.mark.parametrize("path", AMBIGUOUS)
async def test_ambiguous_paths_are_refused_before_routing(stack: Stack, path: str) -> None:
    for bearer in (stack.service_token, stack.admin_token):
        status, body = await raw_get(stack, path, bearer)
        assert status == 400, body
        problem = json.loads(body)
        assert problem["type"] == "urn:sinergi:problem:ambiguous-path"
        assert problem["status"] == 400
        assert problem["errors"][0]["loc"] == ["path"]


async def test_plain_paths_still_pass(stack: Stack) -> None:
    # The feed itself is not exposed, and dots inside a segment (region codes) are fine.
    status, _body = await raw_get(stack, "/v1/changes", stack.service_token)
    assert status == 404
    status, body = await raw_get(stack, "/v1/regions/63.02.17.2002", stack.admin_token)
    assert status != 400, body
    status, body = await raw_get(stack, "/v1/regions?q=%2e%2e", stack.admin_token)
    assert status == 200, body
    # A percent sign once encoded is a value, not a second encoding.
    status, body = await raw_get(stack, "/v1/residents/100%25", stack.admin_token)
    assert status != 400, body
