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
from datetime import date, datetime, timedelta, timezone
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
from tests.faults.residents import TARJUN, resident_body, serial_nik
from tests.support.databases import DatabaseFactory
from tests.support.places import MEGASARI, SAHAPI
from tests.support.tokens import TestKeys

# Roles the fuzzer and the crawler act as: the organisation type and the region it governs.
ROLES: dict[str, tuple[str, str | None]] = {
    "admin": ("admin", None),
    "agency": ("government_agency", None),
    "village": ("village_government", TARJUN),
    "company": ("company", None),
    "other_company": ("company", None),
    "regional_agency": ("regional_agency", None),
    "university": ("university", None),
    "school": ("school", None),
    "bumdes": ("bumdes", None),
    "ngo": ("ngo", None),
}
# One role per provider type; each gets an opportunity and one accepted placement in the seed.
# ``other_company`` is the provider with nothing placed: it must see nobody.
PLACING_PROVIDERS = ("company", "university", "school", "bumdes", "ngo")
# Villages of the seed. District 63.02.17 holds Tarjun (many residents) and Sahapi (one), so
# Sahapi's cells are small while the district's total is not; 63.02.06.2009 holds two.
SMALL_VILLAGE = SAHAPI
OTHER_VILLAGE = MEGASARI
SEEDED_VILLAGES = (TARJUN, SMALL_VILLAGE, OTHER_VILLAGE)
# The notes of the agency's follow-up visit: a text that must reach no provider.
FOLLOW_UP_NOTES = "Catatan kunjungan dinas: istri sakit, utang warung Rp 2 juta"
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
    opportunity_id: str = ""  # the company's opportunity
    disclosed_resident_id: str = ""  # the company's placed resident
    # Per placing provider role: its opportunity, its accepted placement and that resident.
    placed: dict[str, dict[str, str]] = field(default_factory=dict)

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


def _resident(n: int, village: str) -> dict[str, Any]:
    """Residents beyond the first six are men, so women are a small cell of the target group
    while the whole group is not."""
    body = resident_body(n, village_code=village)
    if n >= 6:
        birth = date.fromisoformat(body["birth_date"])
        body |= {"sex": "M", "nik": serial_nik(n + 1, "M", birth)}
    return body


def _seed(stack: Stack) -> None:
    """Eleven verified residents: eight in Tarjun, one in Sahapi (same district), two in
    63.02.06.2009; women are three of them. Each placing provider type publishes an opportunity
    and has one resident placed and accepted, the disclosure delivered by matching's own sender;
    the agency records a follow-up visit with notes about the company's resident."""
    villages = [TARJUN] * 4 + [OTHER_VILLAGE] * 2 + [TARJUN] * 4 + [SMALL_VILLAGE]
    for n, village in enumerate(villages):
        response = stack.call("POST", "/v1/residents", "agency", json=_resident(n, village))
        assert response.status_code == 201, response.text
        resident = response.json()
        verified = stack.call("POST", f"/v1/residents/{resident['id']}/verify", "agency")
        assert verified.status_code == 200, verified.text
        stack.residents.append(resident)
    placed_resident = {"company": 0, "university": 6, "school": 7, "bumdes": 8, "ngo": 10}
    for role in PLACING_PROVIDERS:
        opportunity = stack.call(
            "POST",
            "/v1/opportunities",
            role,
            json={
                "kind": "internship",
                "title": f"Magang {role}",
                "location_village_code": TARJUN,
                "slots": 3,
            },
        )
        assert opportunity.status_code == 201, opportunity.text
        stack.placed[role] = {
            "opportunity_id": opportunity.json()["id"],
            "resident_id": stack.residents[placed_resident[role]]["id"],
        }
    stack.opportunity_id = stack.placed["company"]["opportunity_id"]
    _sync_read_models(stack)  # matching must know the residents and opportunities
    for role in PLACING_PROVIDERS:
        body = {key: stack.placed[role][key] for key in ("resident_id", "opportunity_id")}
        placement = stack.call("POST", "/v1/placements", "agency", json=body)
        assert placement.status_code == 201, placement.text
        placement_id = placement.json()["id"]
        accepted = stack.call("POST", f"/v1/placements/{placement_id}/accept", "agency")
        assert accepted.status_code == 200, accepted.text
        stack.placed[role]["placement_id"] = placement_id
    matching = stack.services["matching"]
    delivered = asgi._get_portal().call(
        deliver_due, matching.state.db, matching.state.clients["registry"], 1.0
    )
    assert delivered == len(PLACING_PROVIDERS), "matching delivered every disclosure"
    stack.disclosed_resident_id = stack.placed["company"]["resident_id"]
    visit = stack.call(
        "POST",
        f"/v1/residents/{stack.disclosed_resident_id}/follow-ups",
        "agency",
        json={
            "visited_on": (_today_in_the_regency() - timedelta(days=1)).isoformat(),
            "employment_status": "employed",
            "monthly_income_idr": 1_250_000,
            "household_size": 4,
            "notes": FOLLOW_UP_NOTES,
        },
    )
    assert visit.status_code == 201, visit.text
    _sync_read_models(stack)


def _today_in_the_regency() -> date:
    return datetime.now(timezone(timedelta(hours=8))).date()


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


__all__ = [
    "FOLLOW_UP_NOTES",
    "PLACING_PROVIDERS",
    "ROLES",
    "SEEDED_VILLAGES",
    "Stack",
    "anyio",
    "build_stack",
    "iter_stack",
]
