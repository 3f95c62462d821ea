"""A small world for matching tests: real producers of the registry and catalogue feeds
(``shared.kit.feed.changes_router`` over outboxes written per docs/contracts.md), a stand-in
gateway token endpoint and registry disclosure endpoint, and the real matching app."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response

from services.matching.main import create_app
from services.matching.settings import MatchingSettings
from tests.support.feeds import FeedProducer
from tests.support.places import KELUMPANG_HILIR, LANGADAI, MEGASARI, TARJUN
from tests.support.tokens import TestKeys, token_endpoint

PILOT_DISTRICT = KELUMPANG_HILIR
VILLAGE = TARJUN
OTHER_VILLAGE = LANGADAI
OTHER_DISTRICT_VILLAGE = MEGASARI


def resident_payload(**fields: Any) -> dict[str, Any]:
    village = fields.pop("village_code", VILLAGE)
    payload = {
        "village_code": village,
        "district_code": ".".join(village.split(".")[:3]),
        "regency_code": ".".join(village.split(".")[:2]),
        "birth_month": "1991-04",
        "age": 30,
        "sex": "F",
        "education_level": "senior_secondary",
        "skills": ["tailoring"],
        "employment_status": "unemployed",
        "welfare_decile": 2,
        "household_size": 4,
        "disability": [],
        "productive_age": True,
        "in_target_group": True,
        "status": "verified",
        "priority_rank": 5,
        "registered_at": "2025-07-01T08:00:00Z",
        "verified_at": "2025-07-03T09:00:00Z",
        "independent_at": None,
        "follow_up": None,
    }
    payload.update(fields)
    return payload


def opportunity_payload(**fields: Any) -> dict[str, Any]:
    today = date.today()
    payload = {
        "provider_org_id": "org-company-1",
        "provider_org_type": "company",
        "external_id": None,
        "kind": "job",
        "title": "Sewing operator",
        "occupation_code": None,
        "skills_required": ["tailoring"],
        "skills_taught": [],
        "min_age": 18,
        "max_age": 50,
        "min_education": None,
        "sex": None,
        "disability_friendly": False,
        "location_village_code": VILLAGE,
        "eligible_area_codes": ["63.02"],
        "slots": 3,
        "pay_idr": 3_000_000,
        "grant_amount_idr": None,
        "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=180)).isoformat(),
        "valid_through": (today + timedelta(days=30)).isoformat(),
        "status": "open",
        "created_at": datetime.now(UTC).isoformat(),
        "updated_at": datetime.now(UTC).isoformat(),
    }
    payload.update(fields)
    return payload


class World:
    def __init__(self, backend: str, databases: Any, keys: TestKeys, **settings: Any) -> None:
        self.keys = keys
        self.disclosures: list[dict[str, Any]] = []
        self.registry_up = True
        disclosure_router = APIRouter()

        @disclosure_router.post("/v1/residents/{resident_id}/disclosures")
        async def disclose(resident_id: str, request: Request) -> Response:
            if not self.registry_up:
                return Response(status_code=503)
            body = await request.json()
            assert request.headers["authorization"].startswith("Bearer ")
            key = (resident_id, body["org_id"], body["placement_id"])
            known = any(d["key"] == key for d in self.disclosures)
            if not known:
                self.disclosures.append({"key": key, **body})
            return Response(status_code=200 if known else 201)

        # The stand-in producers keep their outboxes in SQLite: on the PostgreSQL server that
        # every engineer's tests share, the feed holds back changes while any transaction on
        # the server is open, which only slows these tests down. Matching's own database
        # (read model, cursors, placements) runs on the backend under test.
        self.registry = FeedProducer(
            databases.new("sqlite", "regfeed", migrated=False), keys, disclosure_router
        )
        self.catalogue = FeedProducer(databases.new("sqlite", "oppfeed", migrated=False), keys)
        defaults: dict[str, Any] = {
            "consume_feeds": False,
            "worker_poll_seconds": 0.05,
            "disclosure_retry_seconds": 0.05,
            "feed_poll_seconds": 0.05,
        }
        defaults.update(settings)
        self.settings = MatchingSettings(
            database_url=databases.new(backend, "matching"), jwks_url="", **defaults
        )
        self.transports = {
            "registry": httpx.ASGITransport(app=self.registry.app),
            "opportunities": httpx.ASGITransport(app=self.catalogue.app),
            "gateway": httpx.ASGITransport(app=token_endpoint(keys, "matching-service")),
        }
        self.app = create_app(self.settings, verifier=keys.verifier(), transports=self.transports)
        self._stack = AsyncExitStack()
        self.client: httpx.AsyncClient

    async def __aenter__(self) -> World:
        await self._stack.enter_async_context(self.app.router.lifespan_context(self.app))
        self.client = await self._stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url="http://matching"
            )
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
        self.registry.db.dispose()
        self.catalogue.db.dispose()

    # data -----------------------------------------------------------------------------------
    def resident(self, **fields: Any) -> str:
        resident_id = str(fields.pop("id", uuid.uuid4()))
        self.registry.publish(
            "resident", resident_id, fields.pop("event", "verified"), resident_payload(**fields)
        )
        return resident_id

    def opportunity(self, **fields: Any) -> str:
        opportunity_id = str(fields.pop("id", uuid.uuid4()))
        self.catalogue.publish(
            "opportunity",
            opportunity_id,
            fields.pop("event", "opened"),
            opportunity_payload(**fields),
        )
        return opportunity_id

    async def sync(self) -> None:
        """Apply everything published so far. On PostgreSQL the feed holds back changes while
        any older transaction on the server is open, so poll until all have arrived."""
        consumers = self.app.state.consumers
        for name, producer in (("registry", self.registry), ("opportunities", self.catalogue)):
            published = producer.published()
            for _ in range(400):
                await consumers[name].catch_up()
                if consumers[name].state().applied >= published:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"feed {name} did not catch up")

    # calls ----------------------------------------------------------------------------------
    def headers(self, org_type: str = "government_agency", **kwargs: Any) -> dict[str, str]:
        return self.keys.headers(org_type, **kwargs)

    async def run(self, body: dict[str, Any], **headers: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/matching/runs", json=body, headers=self.headers(**headers)
        )
        assert response.status_code == 202, response.text
        run_id = response.json()["id"]
        for _ in range(400):
            run = (
                await self.client.get(f"/v1/matching/runs/{run_id}", headers=self.headers())
            ).json()
            if run["status"] in ("succeeded", "failed"):
                return dict(run)
            await asyncio.sleep(0.05)
        raise AssertionError("run did not finish")

    async def changes(self, entity_id: str, count: int) -> list[dict[str, Any]]:
        """This service's feed entries of one entity, once ``count`` are visible (PostgreSQL
        serves a change only when every older transaction on the server has ended)."""
        found: list[dict[str, Any]] = []
        for _ in range(600):
            page = await self.client.get(
                "/v1/changes", params={"limit": 1000}, headers=self.headers("service")
            )
            found = [c for c in page.json()["items"] if c["entity_id"] == entity_id]
            if len(found) >= count:
                break
            await asyncio.sleep(0.05)
        return found

    async def act(self, placement_id: str, action: str, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post(f"/v1/placements/{placement_id}/{action}", headers=headers)


SERVICE_DIR = Path(__file__).resolve().parents[2] / "services" / "matching"
