"""Rounds through the real app: 202 and a background worker, proposals with score breakdowns,
placements only when not a dry run, and only admin and agencies start runs."""

from __future__ import annotations

import pytest

from tests.matching.support import OTHER_VILLAGE, PILOT_DISTRICT, VILLAGE, World

pytestmark = pytest.mark.anyio


async def test_run_proposes_within_slots_and_explains_scores(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        residents = [world.resident(priority_rank=rank) for rank in range(1, 6)]
        outsider = world.resident(welfare_decile=8, in_target_group=False)
        job = world.opportunity(slots=2)
        training = world.opportunity(
            kind="training",
            slots=10,
            skills_required=[],
            skills_taught=["welding"],
            location_village_code=OTHER_VILLAGE,
        )
        await world.sync()

        dry = await world.run({"district_codes": [PILOT_DISTRICT], "dry_run": True})
        assert dry["status"] == "succeeded", dry
        stats = dry["statistics"]
        assert stats["residents_considered"] == 5  # the outsider is not in the target group
        assert stats["opportunities_considered"] == 2
        assert stats["proposals"] == 5
        assert stats["slots_filled_by_kind"] == {"job": 2, "training": 3}
        assert stats["slots_filled_by_village"] == {VILLAGE: 5}
        assert stats["justified_envy"] == 0
        assert stats["policy"] == "priority"  # the default
        assert stats["places_filled"] == 5
        other = stats["other_policy"]
        assert other["policy"] == "max_score"
        assert set(other) == {
            "policy",
            "places_filled",
            "total_score",
            "total_weighted_score",
            "justified_envy",
        }
        # The flow maximises the priority-weighted total: never below the priority policy's.
        assert other["total_weighted_score"] >= stats["total_weighted_score"]
        page = (
            await world.client.get(
                f"/v1/matching/runs/{dry['id']}/proposals?limit=3", headers=world.headers()
            )
        ).json()
        assert len(page["items"]) == 3 and page["next_cursor"]
        first = page["items"][0]
        assert set(first["features"]) == {
            "skills_match",
            "distance",
            "village_priority",
            "welfare_decile",
            "waiting_time",
            "training_gap",
        }
        assert first["score"] == pytest.approx(sum(first["features"].values()), abs=0.05)
        assert first["placement_id"] is None
        rest = (
            await world.client.get(
                f"/v1/matching/runs/{dry['id']}/proposals?cursor={page['next_cursor']}",
                headers=world.headers(),
            )
        ).json()
        proposed = page["items"] + rest["items"]
        assert {p["resident_id"] for p in proposed} == set(residents)
        assert outsider not in {p["resident_id"] for p in proposed}
        # The two best-ranked residents take the job: same skills, so priority decides.
        on_job = {p["resident_id"] for p in proposed if p["opportunity_id"] == job}
        assert on_job == set(residents[:2])
        assert {p["opportunity_id"] for p in proposed} == {job, training}
        listed = await world.client.get("/v1/placements", headers=world.headers())
        assert listed.json()["items"] == []  # a dry run creates no placement

        by_score = await world.run(
            {"district_codes": [PILOT_DISTRICT], "dry_run": True, "policy": "max_score"}
        )
        assert by_score["policy"]["allocation"] == "max_score"
        assert by_score["statistics"]["policy"] == "max_score"
        assert by_score["statistics"]["other_policy"]["policy"] == "priority"
        assert by_score["statistics"]["other_policy"]["justified_envy"] == 0

        real = await world.run({"district_codes": [PILOT_DISTRICT], "kinds": ["job"]})
        assert real["statistics"]["proposals"] == 2
        placements = (await world.client.get("/v1/placements", headers=world.headers())).json()
        assert sorted(p["resident_id"] for p in placements["items"]) == sorted(residents[:2])
        assert {p["status"] for p in placements["items"]} == {"proposed"}
        assert {p["run_id"] for p in placements["items"]} == {real["id"]}

        # Proposed placements hold their slots: a second round finds none left for the job.
        again = await world.run({"district_codes": [PILOT_DISTRICT], "kinds": ["job"]})
        assert again["statistics"]["proposals"] == 0


async def test_only_admin_and_agencies_start_runs(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        body = {"district_codes": [PILOT_DISTRICT]}
        for org_type in ("village_government", "company", "regional_agency"):
            response = await world.client.post(
                "/v1/matching/runs", json=body, headers=world.headers(org_type, region=VILLAGE)
            )
            assert response.status_code == 403, org_type
        bad = await world.client.post(
            "/v1/matching/runs",
            json={"district_codes": ["63.02"], "policy": {"weights": {"luck": 3}}},
            headers=world.headers(),
        )
        assert bad.status_code == 422
        fields = {tuple(e["loc"]) for e in bad.json()["errors"]}
        assert ("body", "district_codes") in fields
        assert ("body", "policy", "weights") in fields
        for policy in ("fairest", {"allocation": "fairest"}):
            bad = await world.client.post(
                "/v1/matching/runs",
                json={"district_codes": [PILOT_DISTRICT], "policy": policy},
                headers=world.headers(),
            )
            assert bad.status_code == 422
            assert ("body", "policy", "allocation") in {
                tuple(e["loc"]) for e in bad.json()["errors"]
            }
        # A retried POST with the same key is the same run.
        headers = {**world.headers("admin", org_id="org-admin"), "Idempotency-Key": "round-1"}
        one = await world.client.post("/v1/matching/runs", json=body, headers=headers)
        two = await world.client.post("/v1/matching/runs", json=body, headers=headers)
        assert one.status_code == two.status_code == 202
        assert one.json()["id"] == two.json()["id"]
        assert (
            await world.client.get(
                "/v1/matching/runs/00000000-0000-0000-0000-000000000000", headers=world.headers()
            )
        ).status_code == 404
