"""The visit plan fed by matching's placement feed (issue 15, item 2), on SQLite and
PostgreSQL: a started placement's visits fall due at the plan's offsets, assigned to the
placing agency (visits) and the provider (wage confirmations); ``GET /v1/follow-ups/due`` lists
them scoped like residents; a recorded visit closes its entry; an accepted placement enrols the
resident in the automatic cohort when one is set."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.registry.support import MEGASARI, employed, register, registry_with_matching, resident
from tests.support.databases import DatabaseFactory
from tests.support.problems import error_fields
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

AGENCY = "org-dinsos"
COMPANY = "org-company-cement"


def programme_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo("Asia/Makassar")).date()


async def due(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": "2", **({"cursor": cursor} if cursor else {})}
        answer = await client.get("/v1/follow-ups/due", params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        items += answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return items


async def test_a_started_placement_puts_its_visits_on_the_plan(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency", org_id=AGENCY)
    async with registry_with_matching(keys, backend, databases) as (client, matching):
        rid = (await register(client, agency, resident(1)))["id"]
        neighbour = (await register(client, agency, resident(2, village_code=MEGASARI)))["id"]
        started = datetime.now(UTC) - timedelta(days=100)
        placement = matching.placement(
            rid, COMPANY, "started", started_at=started, created_by_org=AGENCY
        )
        matching.placement(neighbour, COMPANY, "accepted")  # not started: nothing due
        consumer = client.app.state.consumers["matching"]  # type: ignore[attr-defined]
        assert await consumer.catch_up() == 2
        assert await consumer.catch_up() == 0

        start = programme_day(started)
        items = await due(client, agency, resident_id=rid)
        # Earliest first (entries due on one day in either order).
        assert [i["due_on"] for i in items] == sorted(i["due_on"] for i in items)
        assert sorted((i["due_on"], i["kind"], i["assigned_org_id"]) for i in items) == [
            ((start + timedelta(days=30)).isoformat(), "visit", AGENCY),
            ((start + timedelta(days=30)).isoformat(), "wage_confirmation", COMPANY),
            ((start + timedelta(days=90)).isoformat(), "visit", AGENCY),
            ((start + timedelta(days=180)).isoformat(), "visit", AGENCY),
            ((start + timedelta(days=180)).isoformat(), "wage_confirmation", COMPANY),
            ((start + timedelta(days=365)).isoformat(), "visit", AGENCY),
        ]
        assert {i["placement_id"] for i in items} == {placement}
        assert {i["resident_id"] for i in items} == {rid}
        assert len(await due(client, agency, overdue="true")) == 3
        assert len(await due(client, agency, overdue="false")) == 3
        assert len(await due(client, agency, district_code="63.02.17")) == 6
        assert await due(client, agency, district_code="63.02.06") == []
        bad = await client.get(
            "/v1/follow-ups/due", params={"district_code": "99.99.99"}, headers=agency
        )
        assert bad.status_code == 422 and error_fields(bad) == {"district_code"}

        # Scoped like residents: the provider sees what is assigned to it, another village
        # government nothing, a regional agency no list at all.
        company = keys.headers("company", org_id=COMPANY)
        assert {i["kind"] for i in await due(client, company)} == {"wage_confirmation"}
        assert await due(client, keys.headers("village_government", region=MEGASARI)) == []
        regional = await client.get("/v1/follow-ups/due", headers=keys.headers("regional_agency"))
        assert regional.status_code == 403

        # The agency's visit 65 days after the start answers the 30-day visit, not the wage
        # confirmation (its income is the resident's word).
        visit = employed(2_000_000, 4, visited_on=(start + timedelta(days=65)).isoformat())
        recorded = await client.post(f"/v1/residents/{rid}/follow-ups", json=visit, headers=agency)
        assert recorded.status_code == 201, recorded.text
        left = await due(client, agency, resident_id=rid)
        assert sorted((i["offset_days"], i["kind"]) for i in left) == [
            (30, "wage_confirmation"),
            (90, "visit"),
            (180, "visit"),
            (180, "wage_confirmation"),
            (365, "visit"),
        ]


async def test_an_accepted_placement_enrols_in_the_automatic_cohort(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency", org_id=AGENCY)
    async with registry_with_matching(keys, backend, databases, auto_enrol_cohort="KTB-AUTO") as (
        client,
        matching,
    ):
        cohort = {
            "code": "KTB-AUTO",
            "name": "Enrolled on placement",
            "year": 2026,
            "enrolment_opens": "2025-01-01",
            "enrolment_closes": "2099-12-31",
        }
        assert (await client.post("/v1/cohorts", json=cohort, headers=agency)).status_code == 201
        rid = (
            await register(
                client, agency, resident(1, monthly_income_idr=800_000, household_size=4)
            )
        )["id"]
        matching.placement(rid, COMPANY, "accepted")
        await client.app.state.consumers["matching"].catch_up()  # type: ignore[attr-defined]
        [item] = (await client.get(f"/v1/residents/{rid}/enrolments", headers=agency)).json()[
            "items"
        ]
        assert item["cohort"] == "KTB-AUTO" and item["enrolled_via"] == "placement"
        assert item["baseline"]["income_per_member_idr"] == 200_000
        assert item["baseline"]["welfare_decile"] == 2
