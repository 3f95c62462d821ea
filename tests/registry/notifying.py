"""Helpers of the notification tests: the registry reading the real matching app's placement
feed with its own service token, an offer made through matching's own endpoint, and the
SMS gateway's signed calls."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx

from services.matching.placements.models import Placement
from services.matching.readmodel.models import OpportunityView
from services.registry.notifications.rules import SIGNATURE_HEADER, sign
from services.registry.notifications.tasks import send_due
from tests.registry.support import Matching, register, registry_client, resident
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys, token_endpoint

PROVIDER = "org-company-cement"
INBOUND_SECRET = "test-inbound-secret"
PHONE = "+6281234567801"


@dataclass
class Wired:
    registry: httpx.AsyncClient
    matching: Matching
    matching_client: httpx.AsyncClient
    keys: TestKeys

    @property
    def app(self) -> Any:
        return self.registry.app  # type: ignore[attr-defined]

    async def catch_up(self, expected: int, attempts: int = 100) -> int:
        """Apply matching's feed until ``expected`` more changes arrived. On PostgreSQL a feed
        holds back rows behind transactions still open on the server (other tests share it)."""
        applied = 0
        for _ in range(attempts):
            applied += await self.app.state.consumers["matching"].catch_up()
            if applied >= expected:
                return applied
            await anyio.sleep(0.05)
        return applied

    async def send(self) -> int:
        return await send_due(self.app.state.db, self.app.state.sender, self.app.state.settings)

    def opportunity(self, kind: str = "internship", slots: int = 2) -> uuid.UUID:
        opportunity = OpportunityView(
            id=uuid.uuid4(),
            version=1,
            provider_org_id=PROVIDER,
            provider_org_type="company",
            kind=kind,
            title="Magang pabrik semen",
            slots=slots,
            status="open",
            updated_at=datetime.now(UTC),
        )
        with self.matching.app.state.db.session() as session:
            session.add(opportunity)
        return opportunity.id

    async def offer(self, resident_id: str, kind: str = "internship") -> str:
        """A proposed placement, offered through matching's own endpoint (a feed change)."""
        placement_id = self.matching.placement(resident_id, PROVIDER, status="proposed")
        opportunity_id = self.opportunity(kind)
        with self.matching.app.state.db.session() as session:
            row = session.get(Placement, uuid.UUID(placement_id))
            assert row is not None
            row.opportunity_id, row.kind = opportunity_id, kind
        response = await self.matching_client.post(
            f"/v1/placements/{placement_id}/offer", headers=self.keys.headers("admin")
        )
        assert response.status_code == 200, response.text
        return placement_id

    async def placement(self, placement_id: str) -> dict[str, Any]:
        response = await self.matching_client.get(
            f"/v1/placements/{placement_id}", headers=self.keys.headers("admin")
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def notifications(self, resident_id: str, **token: Any) -> list[dict[str, Any]]:
        response = await self.registry.get(
            "/v1/notifications",
            params={"resident_id": resident_id},
            headers=self.keys.headers(token.pop("org_type", "government_agency"), **token),
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def register(self, serial: int = 1, **fields: Any) -> dict[str, Any]:
        fields = {"phone": PHONE, "family_card_number": "6302061204910099", **fields}
        body = resident(serial, **{k: v for k, v in fields.items() if v is not None})
        return await register(self.registry, self.keys.headers("government_agency"), body)

    async def inbound(
        self, text: str, sender: str = PHONE, message_id: str | None = None, secret: str = ""
    ) -> httpx.Response:
        body = json.dumps(
            {"from": sender, "text": text, "message_id": message_id or uuid.uuid4().hex}
        ).encode()
        return await self.registry.post(
            "/v1/notifications/inbound",
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(secret or INBOUND_SECRET, body),
            },
        )


@contextlib.asynccontextmanager
async def notifying(
    keys: TestKeys,
    backend: str,
    databases: DatabaseFactory,
    *,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    **settings: Any,
) -> AsyncIterator[Wired]:
    matching = Matching(databases.new(backend, "matching"), keys)
    gateway = httpx.ASGITransport(app=token_endpoint(keys, "org-registry-service"))
    async with (
        registry_client(
            databases.new(backend, "registry"),
            keys,
            matching=matching,
            transports={"gateway_transport": gateway, **(transports or {})},
            consume_feeds=False,
            notify_inbound_secret=INBOUND_SECRET,
            **settings,
        ) as registry,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=matching.app), base_url="http://matching"
        ) as matching_client,
    ):
        yield Wired(registry, matching, matching_client, keys)
