"""``GET /v1/residents/{id}/follow-ups``: a resident's visits newest first, page by page, with
the access rules of reading the resident, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.registry.support import (
    MEGASARI,
    TARJUN,
    register,
    registry_with_matching,
    resident,
)
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

VISIT = {"employment_status": "employed", "monthly_income_idr": 1_200_000, "household_size": 4}


@pytest.mark.anyio
async def test_follow_ups_are_listed_newest_first_within_reach(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    other_agency = keys.headers("government_agency", org_id="org-other-agency")
    async with registry_with_matching(keys, backend, databases) as (client, matching):
        rid = (await register(client, agency, resident(1)))["id"]
        neighbour = (await register(client, agency, resident(2)))["id"]
        url = f"/v1/residents/{rid}/follow-ups"
        # Two organisations on one day: the id breaks the tie, so no visit is skipped or
        # repeated across pages.
        days = ["2026-01-10", "2026-03-05", "2026-02-01", "2026-03-05", "2026-05-20"]
        recorded = []
        for n, day in enumerate(days):
            headers = other_agency if n == 3 else agency
            response = await client.post(url, json={**VISIT, "visited_on": day}, headers=headers)
            assert response.status_code == 201, response.text
            recorded.append(response.json())
        await client.post(
            f"/v1/residents/{neighbour}/follow-ups",
            json={**VISIT, "visited_on": "2026-06-01"},
            headers=agency,
        )

        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = await client.get(url, params=params, headers=agency)
            assert page.status_code == 200, page.text
            seen += page.json()["items"]
            pages += 1
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert pages == 3
        assert [v["visited_on"] for v in seen] == sorted(days, reverse=True)
        assert sorted(v["id"] for v in seen) == sorted(v["id"] for v in recorded)
        first = seen[0]
        assert first["resident_id"] == rid and first["income_per_member_idr"] == 300_000
        assert first["recorded_at"].endswith(("Z", "+00:00")) and "resident_status" not in first

        # Same reach as reading the resident: its own village, not a foreign one, and a
        # provider only through a disclosure.
        own = keys.headers("village_government", region=TARJUN)
        foreign = keys.headers("village_government", region=MEGASARI)
        provider = keys.headers("company", org_id="org-company-cement")
        assert len((await client.get(url, headers=own)).json()["items"]) == 5
        assert (await client.get(url, headers=foreign)).status_code == 404
        assert (await client.get(url, headers=provider)).status_code == 404
        disclosure = {
            "org_id": "org-company-cement",
            "purpose": "placement",
            "placement_id": matching.placement(rid, "org-company-cement"),
            "valid_until": "2099-12-31",
        }
        assert (
            await client.post(
                f"/v1/residents/{rid}/disclosures",
                json=disclosure,
                headers=keys.headers("service"),
            )
        ).status_code == 201
        assert (await client.get(url, headers=provider)).status_code == 200
        assert (await client.get(url, headers=keys.headers("service"))).status_code == 403
        assert (
            await client.get("/v1/residents/no-such-id/follow-ups", headers=agency)
        ).status_code == 404

        empty = await client.get(f"/v1/residents/{neighbour}/follow-ups?limit=1", headers=agency)
        assert len(empty.json()["items"]) == 1 and empty.json()["next_cursor"] is None
        bad = await client.get(f"{url}?cursor=bm90LWEtY3Vyc29y", headers=agency)
        assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "cursor"]
        forged = await client.get(f"{url}?cursor=WyJ4IiwieSJd", headers=agency)
        assert forged.status_code == 422
