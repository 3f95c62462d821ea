"""Routing by path prefix to real service apps served by uvicorn, through the forwarder
production runs (aiohttp over a socket). Headers, streaming both ways, request ids, 503 and
504."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from jose import jwt

from tests.gateway.support import (
    ADMIN,
    echo_service,
    free_port,
    gateway_settings,
    running_gateway,
    token,
    trusting,
    uvicorn_server,
)

pytestmark = pytest.mark.anyio

BIG = 3 * 1024 * 1024 + 17  # many ASGI messages, and over the gateway's own body limit


async def _chunks() -> AsyncIterator[bytes]:
    for _ in range(BIG // 65536):
        yield b"a" * 65536
    yield b"a" * (BIG % 65536)


@pytest.fixture
async def echo_url(gateway_db: str, data_dir: Path, tmp_path: Path) -> AsyncIterator[str]:
    """The echo service over a real socket, trusting the gateway's keys."""
    verifier = await trusting(gateway_settings(gateway_db, data_dir))
    upstream = echo_service(verifier, f"sqlite:///{tmp_path / 'echo.db'}")
    with uvicorn_server(upstream) as url:
        yield url


async def _check_forwarding(client: httpx.AsyncClient) -> None:
    bearer = await token(client, *ADMIN)
    headers = {
        "Authorization": f"Bearer {bearer}",
        "X-Request-ID": "4bd1f2c0a0b94b1fb3c4cbb1d0e0f001",
        "Connection": "keep-alive, X-Secret-Hop",
        "X-Secret-Hop": "must not pass",
        "Keep-Alive": "timeout=5",
        "X-Custom": "passes",
    }
    response = await client.get("/v1/residents/echo?village=63.02.17.2002", headers=headers)
    assert response.status_code == 200, response.text
    echoed = response.json()
    assert echoed["path"] == "/v1/residents/echo"
    assert echoed["query"] == "village=63.02.17.2002"
    seen = echoed["headers"]
    assert seen["authorization"] == f"Bearer {bearer}"
    assert seen["x-request-id"] == "4bd1f2c0a0b94b1fb3c4cbb1d0e0f001"
    assert seen["x-custom"] == "passes"
    assert "x-secret-hop" not in seen
    assert "keep-alive" not in seen
    assert seen["x-forwarded-host"] == "gateway.test"
    # The service checked the token again and saw the same organisation.
    assert echoed["org"] == jwt.get_unverified_claims(bearer)["org"]
    # Response: hop-by-hop gone (also those named in Connection), the request id echoed once.
    assert response.headers["x-kept"] == "yes"
    assert "x-hop" not in response.headers
    assert response.headers.get_list("x-request-id") == ["4bd1f2c0a0b94b1fb3c4cbb1d0e0f001"]

    generated = await client.get(
        "/v1/residents/echo", headers={"Authorization": f"Bearer {bearer}"}
    )
    request_id = generated.headers["x-request-id"]
    assert request_id and generated.json()["headers"]["x-request-id"] == request_id

    upload = await client.post(
        "/v1/residents/echo", content=_chunks(), headers={"Authorization": f"Bearer {bearer}"}
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["body_length"] == BIG
    assert upload.json()["method"] == "POST"
    small = await client.post(
        "/v1/residents/echo",
        json={"nik": "not logged"},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert small.json()["body_head"] == '{"nik":"not logged"}'
    assert small.json()["headers"]["content-length"] == "20"

    async with client.stream(
        "GET", "/v1/residents/stream?chunks=300", headers={"Authorization": f"Bearer {bearer}"}
    ) as streamed:
        lines = [line async for line in streamed.aiter_lines()]
    assert lines[0] == "chunk 0000" and lines[-1] == "chunk 0299" and len(lines) == 300


async def test_routes_over_a_real_socket_with_aiohttp(
    gateway_db: str, data_dir: Path, echo_url: str
) -> None:
    settings = gateway_settings(gateway_db, data_dir, registry_url=echo_url)
    async with running_gateway(settings) as (_app, client):
        await _check_forwarding(client)


async def _admin_get(client: httpx.AsyncClient, path: str) -> httpx.Response:
    bearer = await token(client, *ADMIN)
    return await client.get(path, headers={"Authorization": f"Bearer {bearer}"})


def _assert_problem(response: httpx.Response, status: int, problem: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:sinergi:problem:{problem}"


async def test_unreachable_service_is_503(gateway_db: str, data_dir: Path) -> None:
    settings = gateway_settings(
        gateway_db, data_dir, opportunities_url=f"http://127.0.0.1:{free_port()}"
    )
    async with running_gateway(settings) as (_app, client):
        response = await _admin_get(client, "/v1/opportunities")
        _assert_problem(response, 503, "service-unavailable")
        assert "opportunities" in response.json()["detail"]


async def test_slow_service_is_504_over_a_socket(
    gateway_db: str, data_dir: Path, echo_url: str
) -> None:
    settings = gateway_settings(
        gateway_db, data_dir, registry_url=echo_url, upstream_timeout_seconds=0.2
    )
    async with running_gateway(settings) as (_app, client):
        response = await _admin_get(client, "/v1/residents/slow?seconds=1")
        _assert_problem(response, 504, "gateway-timeout")


async def test_changes_feed_is_not_exposed(gateway_db: str, data_dir: Path) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_app, client):
        bearer = await token(client, "matching-service", "dev-matching-secret")
        response = await client.get("/v1/changes", headers={"Authorization": f"Bearer {bearer}"})
        assert response.status_code == 404


async def test_no_token_is_refused_before_forwarding(gateway_db: str, data_dir: Path) -> None:
    # Nothing listens at the registry's address: a 401 proves nothing was forwarded.
    settings = gateway_settings(
        gateway_db, data_dir, registry_url=f"http://127.0.0.1:{free_port()}"
    )
    async with running_gateway(settings) as (_app, client):
        response = await client.get("/v1/residents")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["type"] == "urn:sinergi:problem:unauthorized"
