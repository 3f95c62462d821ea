"""Consent, as the registry's feed carries it, is enforced: a resident who refused or withdrew
consent is never proposed by a round nor placed directly (422, reason ``no_consent``); a
withdrawal ends the placements not yet started and keeps the started ones. And a provider's
explanations are no oracle: it hears about its own candidates and placements only, and for
anyone else exactly what it hears for a resident that does not exist (issue 13)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.matching.eligibility.service import load_residents
from services.matching.placements.models import PendingDisclosure, Placement
from services.matching.placements.service import new_placement
from services.matching.readmodel.models import OpportunityView, ResidentView
from services.matching.readmodel.service import apply_resident_changes
from services.matching.runs import service as runs_service
from shared.kit.feed import Change
from tests.matching.support import PILOT_DISTRICT, VILLAGE, World, resident_payload

pytestmark = pytest.mark.anyio
RAW = {"age", "sex", "village_code", "district_code", "welfare_decile", "education_level"}


async def test_a_round_never_proposes_a_resident_without_consent(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        given = world.resident(consent="given", priority_rank=3)
        unrecorded = world.resident(priority_rank=4)
        # Given, then withdrawn: the later snapshot wins, under its own event.
        withdrawn = world.resident(consent="given", priority_rank=1)
        world.resident(id=withdrawn, event="consent", consent="withdrawn", priority_rank=1)
        refused = world.resident(consent="refused", priority_rank=2, welfare_decile=1)
        unknown_word = world.resident(consent="revoked", priority_rank=5)
        world.opportunity(slots=10)
        await world.sync()
        with world.app.state.db.session(write=False) as session:
            held = {row.id: row.consent for row in session.scalars(select(ResidentView))}
        assert held[uuid.UUID(withdrawn)] == "withdrawn"
        assert held[uuid.UUID(unrecorded)] is None

        run = await world.run({"district_codes": [PILOT_DISTRICT]})
        assert run["status"] == "succeeded", run
        assert run["statistics"]["residents_considered"] == 2
        proposals = (
            await world.client.get(
                f"/v1/matching/runs/{run['id']}/proposals", headers=world.headers()
            )
        ).json()["items"]
        assert {p["resident_id"] for p in proposals} == {given, unrecorded}
        placed = (await world.client.get("/v1/placements", headers=world.headers())).json()["items"]
        assert {p["resident_id"] for p in placed} == {given, unrecorded}
        assert not {withdrawn, refused, unknown_word} & {p["resident_id"] for p in placed}


async def test_direct_placement_without_consent_is_422_no_consent(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        refused = world.resident(consent="refused")
        withdrawn = world.resident(consent="withdrawn")
        given = world.resident(consent="given")
        opportunity = world.opportunity(slots=5)
        await world.sync()
        for resident in (refused, withdrawn):
            response = await world.client.post(
                "/v1/placements",
                json={"resident_id": resident, "opportunity_id": opportunity},
                headers=world.headers(),
            )
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["reason"] == "no_consent"
            assert [e["loc"] for e in problem["errors"]] == [["body", "resident_id"]]
        ok = await world.client.post(
            "/v1/placements",
            json={"resident_id": given, "opportunity_id": opportunity},
            headers=world.headers(),
        )
        assert ok.status_code == 201, ok.text
        why = (
            await world.client.get(
                "/v1/matching/explain",
                params={"resident_id": refused, "opportunity_id": opportunity},
                headers=world.headers(),
            )
        ).json()
        assert [r["code"] for r in why["reasons"]] == ["no_consent"]


async def test_withdrawal_ends_unstarted_placements_and_keeps_started(  # type: ignore[no-untyped-def]
    backend, databases, keys
) -> None:
    async with World(backend, databases, keys) as world:
        resident = world.resident(consent="given")
        bystander = world.resident(consent="given")
        kinds = ("job", "internship", "training", "mentoring")
        offers = {
            kind: world.opportunity(
                kind=kind, provider_org_id="org-provider", slots=3, skills_required=[]
            )
            for kind in kinds
        }
        await world.sync()
        agency = world.headers()
        village = world.headers("village_government", region=VILLAGE)
        provider = world.headers("company", org_id="org-provider")
        world.registry_up = False  # disclosures stay pending: the withdrawal must cancel them

        async def offered(who: str, kind: str) -> str:
            response = await world.client.post(
                "/v1/placements",
                json={"resident_id": who, "opportunity_id": offers[kind]},
                headers=agency,
            )
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        started = await offered(resident, "job")
        accepted = await offered(resident, "internship")
        offer = await offered(resident, "training")
        for placement in (started, accepted):
            assert (await world.act(placement, "accept", village)).status_code == 200
        assert (await world.act(started, "start", provider)).status_code == 200
        with world.app.state.db.session() as session:
            [facts] = load_residents(session, ids=[uuid.UUID(resident)])
            row = session.get(OpportunityView, uuid.UUID(offers["mentoring"]))
            assert row is not None
            proposed = str(
                new_placement(
                    session,
                    resident=facts,
                    opportunity=row,
                    status="proposed",
                    org_id="org-agency",
                    org_type="government_agency",
                ).id
            )
        others = await offered(bystander, "internship")
        assert (await world.act(others, "accept", village)).status_code == 200

        world.resident(id=resident, event="consent", consent="withdrawn")
        await world.sync()

        async def status(placement: str) -> str:
            got = await world.client.get(f"/v1/placements/{placement}", headers=agency)
            return str(got.json()["status"])

        assert await status(started) == "started"
        assert await status(accepted) == "dropped"
        assert await status(offer) == "declined"
        assert await status(proposed) == "declined"
        assert await status(others) == "accepted"
        with world.app.state.db.session(write=False) as session:
            internship = session.get(OpportunityView, uuid.UUID(offers["internship"]))
            assert internship is not None and internship.taken == 1  # the bystander's slot
            pending = {str(p.placement_id) for p in session.scalars(select(PendingDisclosure))}
        # The dropped placement's disclosure is never sent; the started one's stays due.
        assert pending == {started, others}
        # Each end is a transition on matching's own feed, by the service.
        changes = await world.changes(accepted, 3)
        assert [c["event"] for c in changes] == ["offered", "accepted", "dropped"]
        detail = (await world.client.get(f"/v1/placements/{offer}", headers=agency)).json()
        assert detail["history"][-1]["org_type"] == "service"
        # Applying the same withdrawal again changes nothing.
        world.resident(id=resident, event="updated", consent="withdrawn", education_level="primary")
        await world.sync()
        assert await status(started) == "started"
        with world.app.state.db.session(write=False) as session:
            ended = session.scalars(
                select(Placement.status).where(  # type: ignore[call-overload]
                    Placement.resident_id == uuid.UUID(resident)
                )
            ).all()
        assert sorted(ended) == ["declined", "declined", "dropped", "started"]


async def test_a_provider_explanation_is_no_oracle(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        stranger = world.resident(age=41, sex="M", welfare_decile=3)
        candidate = world.resident()
        placed = world.resident()
        draft = world.opportunity(
            provider_org_id="org-provider", status="draft", min_age=41, max_age=41, sex="M"
        )
        own = world.opportunity(provider_org_id="org-provider", slots=1, sex="F")
        await world.sync()
        provider = world.headers("company", org_id="org-provider")
        agency = world.headers()

        async def explain(resident: str, opportunity: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
            return await world.client.get(
                "/v1/matching/explain",
                params={"resident_id": resident, "opportunity_id": opportunity},
                headers=headers,
            )

        # Not a candidate of the provider's opportunity, nor placed on it: as if unknown.
        nobody = await explain(str(uuid.uuid4()), draft, provider)
        assert nobody.status_code == 404
        for resident, opportunity in ((stranger, draft), (stranger, own), (candidate, draft)):
            probe = await explain(resident, opportunity, provider)
            assert (probe.status_code, probe.json()) == (404, nobody.json())
        # The agency keeps the full explanation of the same pairs.
        full = (await explain(stranger, draft, agency)).json()
        assert [r["code"] for r in full["reasons"]] == ["opportunity_not_open"]
        assert [r["code"] for r in (await explain(stranger, own, agency)).json()["reasons"]] == [
            "sex_mismatch"
        ]

        # Its candidate: rule outcomes and score parts, no attribute of the resident.
        mine = await explain(candidate, own, provider)
        assert mine.status_code == 200 and mine.json()["eligible"] is True
        assert not RAW & set(mine.json())
        # Nor score parts in the resident's units (decile, rank, village), nor their sum.
        assert mine.json()["score"] is None
        assert set(mine.json()["features"]) <= {"skills_match", "training_gap"}
        # Placed on its opportunity (the only slot taken): explained though no longer eligible.
        placement = await world.client.post(
            "/v1/placements", json={"resident_id": placed, "opportunity_id": own}, headers=agency
        )
        assert placement.status_code == 201, placement.text
        after = await explain(placed, own, provider)
        assert after.status_code == 200
        assert [r["code"] for r in after.json()["reasons"]] == [
            "no_slots_left",
            "active_placement_of_kind",
        ]
        assert not RAW & set(after.json())
        # The candidate, now without a slot to fill, is no longer explained to the provider.
        gone = await explain(candidate, own, provider)
        assert (gone.status_code, gone.json()) == (404, nobody.json())


async def test_a_withdrawal_while_a_round_computes_is_not_proposed(  # type: ignore[no-untyped-def]
    backend, databases, keys, monkeypatch
) -> None:
    async with World(backend, databases, keys) as world:
        stays = world.resident(consent="given", priority_rank=1)
        leaves = world.resident(consent="given", priority_rank=2)
        world.opportunity(slots=5)
        await world.sync()
        compute = runs_service.compute_round

        def withdraw_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
            # The round read both residents; the feed's withdrawal lands before it persists.
            result = compute(*args, **kwargs)
            assert {str(p.resident.id) for p in result.proposals} == {stays, leaves}
            withdrawal = Change(
                cursor="0.0",
                entity="resident",
                entity_id=leaves,
                event="consent",
                version=2,
                occurred_at=datetime.now(UTC),
                payload={**resident_payload(consent="withdrawn", priority_rank=2), "id": leaves},
            )
            with world.app.state.db.session() as session:
                apply_resident_changes(session, [withdrawal])
            return result

        monkeypatch.setattr(runs_service, "compute_round", withdraw_meanwhile)
        run = await world.run({"district_codes": [PILOT_DISTRICT]})
        assert run["status"] == "succeeded", run
        assert run["statistics"]["withdrawn_before_persisting"] == 1
        placed = (await world.client.get("/v1/placements", headers=world.headers())).json()
        assert [p["resident_id"] for p in placed["items"]] == [stays]
