"""Lookups for frontends: why (not) a pair, recommendations for a resident, anonymised
candidates for an opportunity, each within the caller's reach."""

from __future__ import annotations

import pytest

from tests.matching.support import OTHER_DISTRICT_VILLAGE, VILLAGE, World

pytestmark = pytest.mark.anyio
PERSONAL = {"nik", "name", "phone", "address", "birth_date", "family_card_number"}


async def test_explain_recommend_and_candidates(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys) as world:
        young = world.resident(age=17, priority_rank=1)
        best = world.resident(priority_rank=1, welfare_decile=1)
        other = world.resident(priority_rank=9, skills=[], village_code=OTHER_DISTRICT_VILLAGE)
        unverified = world.resident(status="registered")
        job = world.opportunity(provider_org_id="org-provider", slots=5)
        far = world.opportunity(
            eligible_area_codes=["63.02.06"], location_village_code=OTHER_DISTRICT_VILLAGE
        )
        await world.sync()
        agency = world.headers()

        why = await world.client.get(
            "/v1/matching/explain",
            params={"resident_id": young, "opportunity_id": far},
            headers=agency,
        )
        body = why.json()
        assert body["eligible"] is False
        assert [r["code"] for r in body["reasons"]] == ["below_min_age", "outside_area"]
        assert all(r["message"] for r in body["reasons"])
        ok = (
            await world.client.get(
                "/v1/matching/explain",
                params={"resident_id": best, "opportunity_id": job},
                headers=agency,
            )
        ).json()
        assert ok["eligible"] is True and ok["reasons"] == []
        assert ok["score"] == pytest.approx(sum(ok["features"].values()), abs=0.05)
        assert ok["features"]["skills_match"] == 30.0 and ok["features"]["distance"] == 15.0
        bad = await world.client.get(
            "/v1/matching/explain", params={"resident_id": "x"}, headers=agency
        )
        assert bad.status_code == 422

        recs = (
            await world.client.get(
                "/v1/matching/recommendations", params={"resident_id": other}, headers=agency
            )
        ).json()
        assert [r["opportunity_id"] for r in recs["items"]] == [far, job]  # nearer first
        assert recs["items"][0]["score"] > recs["items"][1]["score"]
        none = (
            await world.client.get(
                "/v1/matching/recommendations", params={"resident_id": unverified}, headers=agency
            )
        ).json()
        assert none["eligible"] is False and none["items"] == []
        assert [r["code"] for r in none["reasons"]] == ["resident_status"]
        village = world.headers("village_government", region=VILLAGE)
        assert (
            await world.client.get(
                "/v1/matching/recommendations", params={"resident_id": other}, headers=village
            )
        ).status_code == 404

        provider = world.headers("company", org_id="org-provider")
        ranked = (
            await world.client.get(
                "/v1/matching/candidates", params={"opportunity_id": job}, headers=provider
            )
        ).json()
        assert [c["resident_id"] for c in ranked["items"]][:1] == [best]
        assert {c["resident_id"] for c in ranked["items"]} == {best, other}
        assert not PERSONAL & set(ranked["items"][0])
        # Nor the attributes that, with the resident id, tell a provider who is poor, how old
        # and where (issue 13, item 13): null for a provider, kept for those who govern them.
        attributes = ("village_code", "district_code", "age", "sex", "welfare_decile")
        for item in ranked["items"]:
            assert [item[name] for name in (*attributes, "priority_rank")] == [None] * 6, item
            # Score parts in the resident's units (decile, rank, village) are withheld too.
            assert item["score"] is None and set(item["features"]) <= {
                "skills_match",
                "training_gap",
            }
        governed = (
            await world.client.get(
                "/v1/matching/candidates", params={"opportunity_id": job}, headers=agency
            )
        ).json()["items"]
        assert all(c["village_code"] and c["age"] is not None for c in governed)
        page = (
            await world.client.get(
                "/v1/matching/candidates",
                params={"opportunity_id": job, "limit": 1},
                headers=provider,
            )
        ).json()
        assert len(page["items"]) == 1 and page["next_cursor"]
        # A village government sees only its own residents; another provider nothing.
        local = (
            await world.client.get(
                "/v1/matching/candidates", params={"opportunity_id": job}, headers=village
            )
        ).json()
        assert [c["resident_id"] for c in local["items"]] == [best]
        stranger = world.headers("company", org_id="org-stranger")
        assert (
            await world.client.get(
                "/v1/matching/candidates", params={"opportunity_id": job}, headers=stranger
            )
        ).status_code == 404
