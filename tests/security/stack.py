"""The whole of Sinergi in one process: the gateway forwarding to the four real service apps
through ``httpx.ASGITransport``, matching and reporting reaching the gateway and the producers
the same way. Organisations, credentials and tokens come from the gateway's own API, so every
request the security tests send passes admission exactly as in production.

Requests go through schemathesis' ASGI client, one event loop thread shared by every call, so
the apps never see two loops.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import requests
from fastapi import FastAPI
from schemathesis.python import asgi
from starlette.types import Receive, Scope, Send

from services.gateway.main import create_app as create_gateway
from services.gateway.settings import DEV_ADMIN_CLIENT_ID, DEV_ADMIN_CLIENT_SECRET, GatewaySettings
from services.matching.main import create_app as create_matching
from services.matching.placements.disclosures import deliver_due
from services.matching.settings import MatchingSettings
from services.opportunities.main import create_app as create_opportunities
from services.opportunities.settings import OpportunitiesSettings
from services.registry.main import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.reporting.main import create_app as create_reporting
from services.reporting.settings import ReportingSettings
from tests.faults.residents import TARJUN, resident_body
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

# Roles the fuzzer and the crawler act as: the organisation type and the region it governs.
ROLES: dict[str, tuple[str, str | None]] = {
    "admin": ("admin", None),
    "agency": ("government_agency", None),
    "village": ("village_government", TARJUN),
    "company": ("company", None),
    "other_company": ("company", None),
    "regional_agency": ("regional_agency", None),
}
SERVICE_CLIENT = ("matching-service", "dev-matching-secret")


class LateApp:
    """An ASGI app whose target is set after creation: matching needs the gateway's transport
    before the gateway (which needs matching's) exists."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        await self.app(scope, receive, send)


@dataclass
class Stack:
    gateway: FastAPI
    services: dict[str, FastAPI]
    client: requests.Session
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    org_ids: dict[str, str] = field(default_factory=dict)
    residents: list[dict[str, Any]] = field(default_factory=list)
    opportunity_id: str = ""
    disclosed_resident_id: str = ""

    def call(self, method: str, path: str, role: str | None = None, **kwargs: Any) -> Any:
        headers = dict(self.headers[role]) if role else {}
        headers.update(kwargs.pop("headers", {}))
        return self.client.request(method, path, headers=headers, **kwargs)

    def dispose(self) -> None:
        for app in self.services.values():
            app.state.db.dispose()
        self.gateway.state.db.dispose()


def _token(client: requests.Session, client_id: str, secret: str) -> dict[str, str]:
    response = client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def build_stack(backend: str, databases: DatabaseFactory, keys: TestKeys, workdir: Path) -> Stack:
    signing_key = workdir / "signing.pem"
    signing_key.write_text(keys.private_pem)
    verifier = keys.verifier  # every service checks the gateway's signature itself
    late_gateway = LateApp()
    late_matching = LateApp()  # the registry asks matching to confirm each disclosure
    registry = create_registry(
        RegistrySettings(database_url=databases.new(backend, "registry"), jwks_url=""),
        verifier=verifier(),
        matching_transport=httpx.ASGITransport(app=late_matching),
    )
    opportunities = create_opportunities(
        OpportunitiesSettings(database_url=databases.new(backend, "opportunities"), jwks_url=""),
        verifier=verifier(),
    )
    producers = {
        "gateway": httpx.ASGITransport(app=late_gateway),
        "registry": httpx.ASGITransport(app=registry),
        "opportunities": httpx.ASGITransport(app=opportunities),
    }
    matching = create_matching(
        MatchingSettings(database_url=databases.new(backend, "matching"), jwks_url=""),
        verifier=verifier(),
        transports=producers,
    )
    late_matching.app = matching
    reporting = create_reporting(
        ReportingSettings(database_url=databases.new(backend, "reporting"), jwks_url=""),
        verifier=verifier(),
        transports=producers | {"matching": httpx.ASGITransport(app=matching)},
    )
    services = {
        "registry": registry,
        "opportunities": opportunities,
        "matching": matching,
        "reporting": reporting,
    }
    gateway = create_gateway(
        GatewaySettings(
            database_url=databases.new(backend, "gateway"),
            data_dir=workdir,
            signing_key_file=str(signing_key),
            rate_limit="1000000/minute",
            upstream_timeout_seconds=10.0,
            argon2_time_cost=1,
            argon2_memory_kib=64,
            argon2_parallelism=1,
        ),
        transports={name: httpx.ASGITransport(app=app) for name, app in services.items()},
        configure_logs=False,
    )
    late_gateway.app = gateway
    client = asgi.get_client(gateway)  # type: ignore[arg-type]
    stack = Stack(gateway=gateway, services=services, client=client)
    stack.headers["admin"] = _token(client, DEV_ADMIN_CLIENT_ID, DEV_ADMIN_CLIENT_SECRET)
    stack.headers["service"] = _token(client, *SERVICE_CLIENT)
    for role, (org_type, region) in ROLES.items():
        if role == "admin":
            continue
        body: dict[str, Any] = {"name": f"Uji {role}", "type": org_type}
        if region:
            body["region_code"] = region
        created = stack.call("POST", "/v1/organisations", "admin", json=body)
        assert created.status_code in (200, 201), created.text
        org_id = created.json()["id"]
        stack.org_ids[role] = org_id
        issued = stack.call("POST", f"/v1/organisations/{org_id}/clients", "admin")
        assert issued.status_code == 201, issued.text
        credential = issued.json()
        stack.headers[role] = _token(client, credential["client_id"], credential["client_secret"])
    _seed(stack)
    return stack


def _seed(stack: Stack) -> None:
    """Residents in and out of the village's region, an opportunity of the company, and one
    resident disclosed to the company (as matching discloses on an accepted placement)."""
    for n in range(6):
        village = TARJUN if n < 4 else "63.02.06.2009"
        response = stack.call(
            "POST", "/v1/residents", "agency", json=resident_body(n, village_code=village)
        )
        assert response.status_code == 201, response.text
        stack.residents.append(response.json())
    opportunity = stack.call(
        "POST",
        "/v1/opportunities",
        "company",
        json={
            "kind": "internship",
            "title": "Magang produksi semen",
            "location_village_code": TARJUN,
            "slots": 3,
        },
    )
    assert opportunity.status_code == 201, opportunity.text
    stack.opportunity_id = opportunity.json()["id"]
    # The registry records a disclosure only for a placement matching holds as accepted: the
    # resident is verified, placed with the company and accepts, and matching delivers it.
    disclosed = stack.residents[0]["id"]
    verified = stack.call("POST", f"/v1/residents/{disclosed}/verify", "agency")
    assert verified.status_code == 200, verified.text
    _sync_read_models(stack)
    placed = stack.call(
        "POST",
        "/v1/placements",
        "agency",
        json={"resident_id": disclosed, "opportunity_id": stack.opportunity_id},
    )
    assert placed.status_code == 201, placed.text
    accepted = stack.call("POST", f"/v1/placements/{placed.json()['id']}/accept", "agency")
    assert accepted.status_code == 200, accepted.text
    matching = stack.services["matching"]
    delivered = asgi._get_portal().call(
        deliver_due, matching.state.db, matching.state.clients["registry"], 1.0
    )
    assert delivered == 1
    stack.disclosed_resident_id = disclosed
    _sync_read_models(stack)


def _sync_read_models(stack: Stack) -> None:
    """Let matching and reporting read the feeds once, as their background loops would."""
    portal = asgi._get_portal()
    for name in ("matching", "reporting"):
        consumers = stack.services[name].state.consumers
        for consumer in consumers.values():
            portal.call(consumer.catch_up)


def iter_stack(
    backend: str, databases: DatabaseFactory, keys: TestKeys, workdir: Path
) -> Iterator[Stack]:
    stack = build_stack(backend, databases, keys, workdir)
    try:
        yield stack
    finally:
        stack.dispose()


__all__ = ["ROLES", "Stack", "anyio", "build_stack", "iter_stack"]
