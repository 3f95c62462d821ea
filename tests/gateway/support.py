"""Helpers for gateway tests: a gateway app over a fresh database, real service apps reached
through ``httpx.ASGITransport`` or a real uvicorn server, and token helpers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from services.gateway.main import create_app
from services.gateway.settings import DEV_ADMIN_CLIENT_ID, DEV_ADMIN_CLIENT_SECRET, GatewaySettings
from shared.kit.app import create_service_app
from shared.kit.auth import CurrentPrincipal
from shared.kit.settings import ServiceSettings
from shared.kit.tokens import TokenVerifier
from tests.support.answers import json_body
from tests.support.ports import free_port

ADMIN = (DEV_ADMIN_CLIENT_ID, DEV_ADMIN_CLIENT_SECRET)
BASE = "http://gateway.test"


def unique(name: str) -> str:
    """A name no other test in the shared database uses."""
    return f"{name} {uuid.uuid4().hex[:8]}"


def gateway_settings(database_url: str, data_dir: Path, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "rate_limit": "10000/minute",
        "upstream_timeout_seconds": 5.0,
        # Cheap hashes keep the suite fast; production refuses these (test_production).
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        "argon2_parallelism": 1,
    }
    values.update(overrides)
    return GatewaySettings(**values)


def gateway_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@contextlib.asynccontextmanager
async def running_gateway(
    settings: GatewaySettings, services: dict[str, FastAPI] | None = None
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The gateway with the forwarder production runs (aiohttp over real sockets): each of
    ``services`` (registry, opportunities, matching, reporting) is served by uvicorn on a free
    port and the gateway's URL for it points there. No in-process transport stands in for the
    network, so whatever the production forwarder does to a request, the tests see."""
    with contextlib.ExitStack() as servers:
        urls = {
            f"{name}_url": servers.enter_context(uvicorn_server(service))
            for name, service in (services or {}).items()
        }
        app = create_app(settings.model_copy(update=urls), configure_logs=False)
        try:
            async with gateway_client(app) as client:
                yield app, client
        finally:
            await app.state.aclose()
            app.state.db.dispose()


async def token(client: httpx.AsyncClient, client_id: str, secret: str, **form: str) -> str:
    response = await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        | form,
    )
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token(client, *ADMIN)}"}


@contextlib.asynccontextmanager
async def admin_on_gateway(
    database_url: str, data_dir: Path, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """Most gateway tests start the same way: a running gateway and the admin's headers."""
    async with running_gateway(gateway_settings(database_url, data_dir, **overrides)) as (
        _app,
        client,
    ):
        yield client, await admin_headers(client)


async def new_organisation(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, **fields: Any
) -> dict[str, Any]:
    """``fields``: the organisation's other fields; a company unless ``type`` says otherwise."""
    body = {"name": unique(name), "type": "company", **fields}
    return json_body(await client.post("/v1/organisations", json=body, headers=headers), 201)


@dataclass
class Company:
    """A company made by the admin on a running gateway: where most tests of an
    organisation's clients and users start."""

    app: FastAPI
    client: httpx.AsyncClient
    headers: dict[str, str]
    org_id: str


async def new_client(
    client: httpx.AsyncClient, headers: dict[str, str], org_id: str
) -> dict[str, Any]:
    return json_body(await client.post(f"/v1/organisations/{org_id}/clients", headers=headers), 201)


def verifier_for(app: FastAPI) -> TokenVerifier:
    """A service's own verifier holding the gateway's public keys (as its JWKS would)."""
    keys = app.state.keys
    settings: GatewaySettings = app.state.settings
    verifier: TokenVerifier = keys.verifier(settings)
    return verifier


async def trusting(settings: GatewaySettings) -> TokenVerifier:
    """The verifier of a service trusting the gateway of ``settings``: the gateway is started
    once first, so that its signing keys exist before the services behind it are built."""
    async with running_gateway(settings) as (probe, _client):
        return verifier_for(probe)


# A real service app built with the shared factory: it checks the token again, like every
# domain service, and echoes what reached it.
def echo_service(verifier: TokenVerifier, database_url: str) -> FastAPI:
    router = APIRouter()

    @router.get("/v1/residents/slow")
    async def slow(principal: CurrentPrincipal, seconds: float = 1.0) -> dict[str, str]:
        await asyncio.sleep(seconds)
        return {"status": "late"}

    @router.api_route("/v1/residents/echo", methods=["GET", "POST", "PUT"])
    async def echo(request: Request, principal: CurrentPrincipal) -> JSONResponse:
        body = b""
        async for chunk in request.stream():
            body += chunk
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "headers": {k: v for k, v in request.headers.items()},
                "body_length": len(body),
                "body_head": body[:40].decode(errors="replace"),
                "org": principal.org_id,
            },
            headers={"Connection": "close, X-Hop", "X-Hop": "drop-me", "X-Kept": "yes"},
        )

    @router.get("/v1/residents/stream")
    async def stream(principal: CurrentPrincipal, chunks: int = 50) -> StreamingResponse:
        async def generate() -> AsyncIterator[bytes]:
            for i in range(chunks):
                yield f"chunk {i:04d}\n".encode()

        return StreamingResponse(generate(), media_type="text/plain")

    settings = ServiceSettings(
        service_name="echo", database_url=database_url, jwks_url="", max_body_bytes=8 << 20
    )
    return create_service_app(
        settings,
        title="echo",
        description="test upstream",
        service_dir=Path(__file__).parent,
        routers=[router],
        verifier=verifier,
        configure_logs=False,
    )


@contextlib.contextmanager
def uvicorn_server(app: FastAPI) -> Iterator[str]:
    """A real uvicorn server on a free port in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            time.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())
