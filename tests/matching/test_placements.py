"""Placements: each transition only by the organisations of DESIGN.md's matrix and only from
the right state; slots never oversubscribed under 200 concurrent accepts; business capital at
most once; history kept and published; the disclosure reaches the registry even after an
outage."""

from __future__ import annotations

import asyncio

import pytest

from services.matching.eligibility.service import load_residents
from services.matching.placements.disclosures import retry_now
from services.matching.placements.service import new_placement
from services.matching.readmodel.models import OpportunityView
from tests.matching.support import OTHER_DISTRICT_VILLAGE, VILLAGE, World

pytestmark = pytest.mark.anyio


async def _offered(world: World, resident_id: str, opportunity_id: str) -> str:
    response = await world.client.post(
        "/v1/placements",
        json={"resident_id": resident_id, "opportunity_id": opportunity_id},
        headers=world.headers(),
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "offered"
    return str(response.json()["id"])


async def test_transitions_follow_the_matrix(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        resident = world.resident()
        opportunity = world.opportunity(provider_org_id="org-provider", slots=2)
        await world.sync()
        agency = world.headers()
        provider = world.headers("company", org_id="org-provider")
        other_provider = world.headers("company", org_id="org-other")
        village = world.headers("village_government", region=VILLAGE)
        other_village = world.headers("village_government", region=OTHER_DISTRICT_VILLAGE)
        district = world.headers("district_government", region="63.02.17")

        # Direct placement: agencies only, a retry returns the same placement.
        body = {"resident_id": resident, "opportunity_id": opportunity}
        assert (
            await world.client.post("/v1/placements", json=body, headers=village)
        ).status_code == 403
        assert (
            await world.client.post("/v1/placements", json=body, headers=provider)
        ).status_code == 403
        placement = await _offered(world, resident, opportunity)
        again = await world.client.post("/v1/placements", json=body, headers=agency)
        assert again.status_code == 200 and again.json()["id"] == placement

        # Out of reach: 404, not 403. Present but not allowed: 403. Wrong state: 409.
        assert (await world.act(placement, "accept", other_village)).status_code == 404
        assert (await world.act(placement, "start", other_provider)).status_code == 404
        assert (await world.act(placement, "accept", provider)).status_code == 403
        assert (await world.act(placement, "start", village)).status_code == 403
        assert (await world.act(placement, "offer", village)).status_code == 403
        assert (await world.act(placement, "start", provider)).status_code == 409
        assert (await world.act(placement, "complete", agency)).status_code == 409

        accepted = await world.act(placement, "accept", village)
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
        assert (await world.act(placement, "accept", village)).status_code == 200  # a retry
        assert (await world.act(placement, "decline", district)).status_code == 409
        assert (await world.act(placement, "start", provider)).json()["status"] == "started"
        assert (await world.act(placement, "complete", provider)).json()["status"] == "completed"
        assert (await world.act(placement, "drop", provider)).status_code == 409

        # History, in order, and the change feed carries every transition without personal data.
        detail = (await world.client.get(f"/v1/placements/{placement}", headers=district)).json()
        assert [h["to_status"] for h in detail["history"]] == [
            "offered",
            "accepted",
            "started",
            "completed",
        ]
        assert (
            await world.client.get(f"/v1/placements/{placement}", headers=other_village)
        ).status_code == 404
        changes = await world.changes(placement, 4)
        assert [c["event"] for c in changes] == ["offered", "accepted", "started", "completed"]
        assert [c["version"] for c in changes] == [1, 2, 3, 4]
        last = changes[-1]["payload"]
        assert last["status"] == "completed" and last["version"] == 4
        assert last["provider_org_id"] == "org-provider" and last["village_code"] == VILLAGE
        assert not {"nik", "name", "phone", "address", "birth_date"} & set(last)

        # Lists are scoped: the provider sees its own, another village sees nothing.
        mine = (await world.client.get("/v1/placements", headers=provider)).json()["items"]
        assert [p["id"] for p in mine] == [placement]
        assert (await world.client.get("/v1/placements", headers=other_village)).json()[
            "items"
        ] == []
        assert (await world.client.get("/v1/placements", headers=other_provider)).json()[
            "items"
        ] == []
        filtered = await world.client.get(
            "/v1/placements",
            params={"status": "completed", "resident_id": resident},
            headers=agency,
        )
        assert [p["id"] for p in filtered.json()["items"]] == [placement]
        assert (
            await world.client.get("/v1/placements", params={"status": "lost"}, headers=agency)
        ).status_code == 422

        # Declines and drops: a second placement for the same resident.
        second_opp = world.opportunity(provider_org_id="org-provider", kind="training")
        await world.sync()
        second = await _offered(world, resident, second_opp)
        assert (await world.act(second, "decline", district)).json()["status"] == "declined"
        third = await _offered(world, resident, second_opp)
        assert third != second
        await world.act(third, "accept", agency)
        dropped = await world.act(third, "drop", provider)
        assert dropped.json()["status"] == "dropped" and dropped.json()["ended_at"]


async def test_direct_placement_applies_the_rules(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        old = world.resident(age=60)
        opportunity = world.opportunity(max_age=50)
        await world.sync()
        response = await world.client.post(
            "/v1/placements",
            json={"resident_id": old, "opportunity_id": opportunity},
            headers=world.headers(),
        )
        assert response.status_code == 422
        assert response.json()["reasons"] == ["above_max_age"]
        assert response.json()["errors"][0]["loc"] == ["body", "opportunity_id"]
        missing = await world.client.post(
            "/v1/placements",
            json={"resident_id": opportunity, "opportunity_id": opportunity},
            headers=world.headers(),
        )
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["loc"] == ["body", "resident_id"]


async def test_200_concurrent_accepts_fill_exactly_10_slots(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        residents = [world.resident() for _ in range(200)]
        opportunity = world.opportunity(slots=10, max_age=None, min_age=None)
        await world.sync()
        db = world.app.state.db
        with db.session() as session:
            facts = load_residents(session)
            row = session.get(OpportunityView, __import__("uuid").UUID(opportunity))
            placements = [
                str(
                    new_placement(
                        session,
                        resident=f,
                        opportunity=row,
                        status="offered",
                        org_id="org-agency",
                        org_type="government_agency",
                    ).id
                )
                for f in facts
            ]
        assert len(placements) == len(residents)
        agency = world.headers()
        responses = await asyncio.gather(*(world.act(p, "accept", agency) for p in placements))
        codes = sorted(r.status_code for r in responses)
        assert codes.count(200) == 10
        assert codes.count(409) == 190
        accepted = await world.client.get(
            "/v1/placements", params={"status": "accepted", "limit": 500}, headers=agency
        )
        assert len(accepted.json()["items"]) == 10
        with db.session(write=False) as session:
            assert session.get(OpportunityView, __import__("uuid").UUID(opportunity)).taken == 10


async def test_business_capital_is_given_once(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        resident = world.resident()
        first = world.opportunity(
            kind="business_capital", provider_org_id="org-bank", grant_amount_idr=5_000_000
        )
        second = world.opportunity(
            kind="business_capital", provider_org_id="org-ngo", provider_org_type="ngo"
        )
        await world.sync()
        agency = world.headers()
        a = await _offered(world, resident, first)
        # Offered twice at once (as two agencies might): only one acceptance can stand.
        with world.app.state.db.session() as session:
            facts = load_residents(session)[0]
            row = session.get(OpportunityView, __import__("uuid").UUID(second))
            b = str(
                new_placement(
                    session,
                    resident=facts,
                    opportunity=row,
                    status="offered",
                    org_id="x",
                    org_type="admin",
                ).id
            )
        assert (await world.act(a, "accept", agency)).status_code == 200
        refused = await world.act(b, "accept", agency)
        assert refused.status_code == 409
        # Once received, the rules refuse any further capital, with the reason.
        bank = world.headers("company", org_id="org-bank")
        assert (await world.act(a, "start", bank)).status_code == 200
        assert (await world.act(a, "complete", bank)).status_code == 200
        assert (await world.act(b, "decline", agency)).status_code == 200
        again = await world.client.post(
            "/v1/placements",
            json={"resident_id": resident, "opportunity_id": second},
            headers=agency,
        )
        assert again.status_code == 422
        assert "capital_already_received" in again.json()["reasons"]
        explain = await world.client.get(
            "/v1/matching/explain",
            params={"resident_id": resident, "opportunity_id": second},
            headers=agency,
        )
        assert [r["code"] for r in explain.json()["reasons"]] == ["capital_already_received"]


async def test_disclosure_survives_a_registry_outage(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        resident = world.resident()
        opportunity = world.opportunity(provider_org_id="org-provider")
        await world.sync()
        world.registry_up = False
        placement = await _offered(world, resident, opportunity)
        assert (await world.act(placement, "accept", world.headers())).status_code == 200
        for _ in range(40):  # the sender tries and fails while the registry is down
            await asyncio.sleep(0.05)
        assert world.disclosures == []
        world.registry_up = True
        await asyncio.to_thread(retry_now, world.app.state.db)
        for _ in range(200):
            if world.disclosures:
                break
            await asyncio.sleep(0.05)
        assert len(world.disclosures) == 1
        disclosure = world.disclosures[0]
        assert disclosure["key"] == (resident, "org-provider", placement)
        assert disclosure["purpose"] == "placement"
        assert disclosure["valid_until"]


async def test_offers_expire_when_their_opportunity_closes(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys, expiry_sweep_seconds=0.05) as world:
        resident = world.resident()
        opportunity = world.opportunity()
        await world.sync()
        placement = await _offered(world, resident, opportunity)
        world.opportunity(id=opportunity, event="closed", status="closed")
        await world.sync()
        status = "offered"
        for _ in range(200):
            detail = (
                await world.client.get(f"/v1/placements/{placement}", headers=world.headers())
            ).json()
            status = detail["status"]
            if status == "expired":
                break
            await asyncio.sleep(0.05)
        assert status == "expired"
        assert detail["history"][-1]["org_type"] == "service"
        assert (await world.act(placement, "accept", world.headers())).status_code == 409
