"""GET /v1/placements/{id}/disclosure-proof: the placement a disclosure names, as the registry
checks it. Only the service that records disclosures may ask."""

from __future__ import annotations

import uuid

import pytest

from tests.matching.support import World
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio


async def test_proof_answers_the_placement_to_the_disclosing_service_only(
    backend: str, databases: DatabaseFactory, keys: TestKeys
) -> None:
    async with World(backend, databases, keys) as world:
        resident = world.resident()
        opportunity = world.opportunity(provider_org_id="org-provider")
        await world.sync()
        created = await world.client.post(
            "/v1/placements",
            json={"resident_id": resident, "opportunity_id": opportunity},
            headers=world.headers(),
        )
        assert created.status_code == 201, created.text
        placement = created.json()["id"]
        url = f"/v1/placements/{placement}/disclosure-proof"
        discloser = world.headers("service")  # matching-service's scopes, residents:disclose
        offered = await world.client.get(url, headers=discloser)
        assert offered.status_code == 200, offered.text
        assert offered.json() == {
            "placement_id": placement,
            "org_id": "org-provider",
            "resident_id": resident,
            "status": "offered",
        }
        assert (await world.act(placement, "accept", world.headers())).status_code == 200
        assert (await world.client.get(url, headers=discloser)).json()["status"] == "accepted"

        # Another service client (reporting holds changes:read only), the programme, the
        # provider itself: none of them.
        for headers in (
            world.headers("service", scopes={"changes:read"}),
            world.headers("government_agency"),
            world.headers("admin"),
            world.headers("company", org_id="org-provider"),
        ):
            refused = await world.client.get(url, headers=headers)
            assert refused.status_code == 403, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
        unknown = await world.client.get(
            f"/v1/placements/{uuid.uuid4()}/disclosure-proof", headers=discloser
        )
        assert unknown.status_code == 404
