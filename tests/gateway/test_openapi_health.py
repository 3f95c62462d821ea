"""The merged OpenAPI document, Swagger UI, /healthz, /readyz naming every service, CORS."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.registry.main import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.gateway.support import gateway_settings, running_gateway, trusting
from tests.support.databases import DatabaseFactory
from tests.support.ports import free_port

pytestmark = pytest.mark.anyio


class OrganisationPublic(BaseModel):
    """Same name as a gateway schema, different shape: must not clobber it."""

    placement_count: int


def tiny_service(*, ready: bool = True) -> FastAPI:
    app = FastAPI(title="tiny")

    @app.get("/v1/placements/summary", response_model=OrganisationPublic)
    async def summary() -> OrganisationPublic:
        return OrganisationPublic(placement_count=0)

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        return JSONResponse({"status": "ready" if ready else "not ready"}, 200 if ready else 503)

    return app


async def _registry(backend: str, databases: DatabaseFactory, gateway_db: str, data_dir: Path):  # type: ignore[no-untyped-def]
    return create_registry(
        RegistrySettings(database_url=databases.new(backend, "registry"), jwks_url=""),
        verifier=await trusting(gateway_settings(gateway_db, data_dir)),
    )


async def test_merged_openapi(
    backend: str, databases: DatabaseFactory, gateway_db: str, data_dir: Path
) -> None:
    registry = await _registry(backend, databases, gateway_db, data_dir)
    services = {"registry": registry, "matching": tiny_service()}
    settings = gateway_settings(
        gateway_db, data_dir, reporting_url=f"http://127.0.0.1:{free_port()}",
        opportunities_url=f"http://127.0.0.1:{free_port()}",
    )  # fmt: skip
    async with running_gateway(settings, services) as (_app, client):
        document = (await client.get("/openapi.json")).json()
        paths = set(document["paths"])
        assert {"/v1/auth/token", "/v1/organisations", "/v1/placements/summary"} <= paths
        assert not paths & {"/healthz", "/readyz", "/v1/changes"}
        schemas = document["components"]["schemas"]
        assert "id" in schemas["OrganisationPublic"]["properties"]
        assert "placement_count" in schemas["matching_OrganisationPublic"]["properties"]
        ref = document["paths"]["/v1/placements/summary"]["get"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]["$ref"]
        assert ref == "#/components/schemas/matching_OrganisationPublic"
        assert sorted(document["info"]["x-unavailable-services"]) == ["opportunities", "reporting"]
        docs = await client.get("/docs")
        assert docs.status_code == 200
        assert "/openapi.json" in docs.text
    registry.state.db.dispose()


async def test_readyz_names_every_service(
    backend: str, databases: DatabaseFactory, gateway_db: str, data_dir: Path
) -> None:
    registry = await _registry(backend, databases, gateway_db, data_dir)
    services = {
        "registry": registry,
        "opportunities": tiny_service(),
        "matching": tiny_service(),
        "reporting": tiny_service(),
    }
    async with running_gateway(gateway_settings(gateway_db, data_dir), services) as (_a, client):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["services"] == {
            "registry": "ready",
            "opportunities": "ready",
            "matching": "ready",
            "reporting": "ready",
        }
        assert ready.json()["database"]["ok"] is True

    services["matching"] = tiny_service(ready=False)
    del services["reporting"]
    settings = gateway_settings(
        gateway_db, data_dir, reporting_url=f"http://127.0.0.1:{free_port()}"
    )
    async with running_gateway(settings, services) as (_a, client):
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["services"] == {
            "registry": "ready",
            "opportunities": "ready",
            "matching": "not ready",
            "reporting": "unreachable",
        }
    registry.state.db.dispose()


async def test_cors_for_configured_origins(gateway_db: str, data_dir: Path) -> None:
    settings = gateway_settings(gateway_db, data_dir, cors_origins=["https://app.example"])
    async with running_gateway(settings) as (_app, client):
        preflight = await client.options(
            "/v1/residents",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        refused = await client.get("/v1/residents", headers={"Origin": "https://app.example"})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == "https://app.example"
        stranger = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers
