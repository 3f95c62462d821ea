"""Who records and reads which follow-up visits (issue 13, item 7), on SQLite and PostgreSQL:
no visit dated after today in Asia/Makassar; a provider records and reads only visits about
its own placements, never before the placement started; agencies record late visits and read
them all; every read that shows visits is audited; and forged visits (dated ahead, or a
provider's without its placement) no longer make a resident independent."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.registry.follow_ups.models import FollowUp
from tests.registry.support import Disclosures, Matching, register, registry_client, resident
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

VISIT = {"employment_status": "employed", "monthly_income_idr": 1_200_000, "household_size": 4}
# Well above the poverty line (600,000 per member): such visits drive independence.
PROSPEROUS = {"employment_status": "employed", "monthly_income_idr": 8_000_000, "household_size": 2}
COMPANY_A = "org-company-cement"
COMPANY_B = "org-company-palm"


def makassar_today() -> date:
    """Today in the regency, computed independently of the service: from 16:00 UTC on it is a
    day ahead of UTC's date, which is when a UTC rule would go wrong."""
    return datetime.now(ZoneInfo("Asia/Makassar")).date()


@contextlib.asynccontextmanager
async def registry_and_matching(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, Disclosures]]:
    """The registry under test, calling a real matching app that knows the placements."""
    d = Disclosures(Matching(databases.new(backend, "matching"), keys))
    async with registry_client(
        databases.new(backend, "registry"), keys, matching=d.matching
    ) as client:
        yield client, d


async def visit(
    client: httpx.AsyncClient, headers: dict[str, str], rid: str, day: date, **fields: Any
) -> httpx.Response:
    return await client.post(
        f"/v1/residents/{rid}/follow-ups",
        json={**VISIT, "visited_on": day.isoformat(), **fields},
        headers=headers,
    )


def error_loc(response: httpx.Response) -> list[Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    loc: list[Any] = response.json()["errors"][0]["loc"]
    return loc


async def test_a_visit_after_today_in_makassar_is_refused(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    company = keys.headers("company", org_id=COMPANY_A)
    async with registry_and_matching(keys, backend, databases) as (client, d):
        rid = (await register(client, agency, resident(1)))["id"]
        await d.disclose(client, keys, rid, COMPANY_A, "p-a")
        today = makassar_today()
        for headers, extra in ((agency, {}), (company, {"placement_id": d.ids["p-a"]})):
            for ahead in (timedelta(days=1), timedelta(days=365 * 5)):
                refused = await visit(client, headers, rid, today + ahead, **extra)
                assert error_loc(refused) == ["body", "visited_on"]
                assert "Asia/Makassar" in refused.json()["errors"][0]["msg"]
            # Today in the regency is accepted, also while UTC is still on yesterday.
            accepted = await visit(client, headers, rid, today, **extra)
            assert accepted.status_code == 201, accepted.text
        listed = await client.get(f"/v1/residents/{rid}/follow-ups", headers=agency)
        assert [v["visited_on"] for v in listed.json()["items"]] == [today.isoformat()] * 2


async def test_a_provider_writes_only_about_its_own_placements_from_their_start(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    village = keys.headers("village_government", region=resident(1)["village_code"])
    company_a = keys.headers("company", org_id=COMPANY_A)
    company_c = keys.headers("company", org_id="org-company-none")
    async with registry_and_matching(keys, backend, databases) as (client, d):
        rid = (await register(client, agency, resident(1)))["id"]
        other = (await register(client, agency, resident(2)))["id"]
        await d.disclose(client, keys, rid, COMPANY_A, "p-a")
        await d.disclose(client, keys, rid, COMPANY_A, "p-a2")
        await d.disclose(client, keys, rid, COMPANY_B, "p-b")
        # Company A's placement of the *other* resident does not open this one to it.
        await d.disclose(client, keys, other, COMPANY_A, "p-a-other")
        today = makassar_today()
        yesterday = today - timedelta(days=1)

        # Without a placement of its own with this resident, a provider records nothing.
        assert (
            await visit(client, company_c, rid, today, placement_id=d.ids["p-a"])
        ).status_code == 404
        assert error_loc(await visit(client, company_a, rid, today)) == ["body", "placement_id"]
        for foreign in (d.ids["p-b"], d.ids["p-a-other"], d.ids["p-unknown"]):
            response = await visit(client, company_a, rid, today, placement_id=foreign)
            assert error_loc(response) == ["body", "placement_id"], foreign
        # Not before the placement started (the registry knows it from the disclosure).
        early = await visit(client, company_a, rid, yesterday, placement_id=d.ids["p-a"])
        assert error_loc(early) == ["body", "visited_on"]
        own = await visit(client, company_a, rid, today, placement_id=d.ids["p-a"])
        assert own.status_code == 201, own.text
        assert own.json()["placement_id"] == d.ids["p-a"]
        # A retry is the same visit; the same day for another placement is a conflict.
        again = await visit(client, company_a, rid, today, placement_id=d.ids["p-a"])
        assert again.status_code == 200 and again.json()["id"] == own.json()["id"]
        second = await visit(client, company_a, rid, today, placement_id=d.ids["p-a2"])
        assert second.status_code == 409, second.text

        # Agencies record late visits with their real past dates, with or without the
        # placement they were about, but only a placement this resident has.
        late = await visit(client, agency, rid, date(2025, 6, 1))
        assert late.status_code == 201 and late.json()["placement_id"] is None
        about = await visit(client, village, rid, yesterday, placement_id=d.ids["p-a"])
        assert about.status_code == 201 and about.json()["placement_id"] == d.ids["p-a"]
        unknown = await visit(client, agency, rid, yesterday, placement_id=d.ids["p-a-other"])
        assert error_loc(unknown) == ["body", "placement_id"]


async def test_providers_read_only_their_placements_visits_and_every_read_is_audited(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency", org_id="org-dinsos")
    admin = keys.headers("admin")
    company_a = keys.headers("company", org_id=COMPANY_A)
    company_b = keys.headers("company", org_id=COMPANY_B)
    company_d = keys.headers("company", org_id="org-company-quiet")
    async with registry_and_matching(keys, backend, databases) as (client, d):
        rid = (await register(client, agency, resident(1)))["id"]
        for org, placement in (
            (COMPANY_A, "p-a"),
            (COMPANY_B, "p-b"),
            ("org-company-quiet", "p-d"),
        ):
            await d.disclose(client, keys, rid, org, placement)
        today = makassar_today()
        notes = {
            "a": await visit(
                client, company_a, rid, today, placement_id=d.ids["p-a"], notes="A: hired"
            ),
            "b": await visit(
                client, company_b, rid, today, placement_id=d.ids["p-b"], notes="B: absent"
            ),
            "agency": await visit(client, agency, rid, date(2026, 3, 1), notes="Dinsos: home"),
            "agency-a": await visit(
                client,
                agency,
                rid,
                today - timedelta(days=1),
                placement_id=d.ids["p-a"],
                notes="Dinsos: A",
            ),
        }
        assert all(r.status_code == 201 for r in notes.values()), notes
        url = f"/v1/residents/{rid}/follow-ups"

        async def seen(headers: dict[str, str]) -> set[str]:
            response = await client.get(url, headers=headers)
            assert response.status_code == 200, response.text
            return {v["notes"] for v in response.json()["items"]}

        assert await seen(company_a) == {"A: hired", "Dinsos: A"}
        assert await seen(company_b) == {"B: absent"}
        assert await seen(company_d) == set()
        assert await seen({**agency, "X-Purpose": "quarterly review"}) == {
            "A: hired",
            "B: absent",
            "Dinsos: home",
            "Dinsos: A",
        }

        trail = await client.get("/v1/audit", params={"resident_id": rid}, headers=admin)
        reads = [r for r in trail.json()["items"] if r["action"] == "follow_up.read"]
        # One row per read that showed visits; company D saw none, so it was shown nothing.
        assert sorted((r["org_id"], r["purpose"], r["stated_purpose"]) for r in reads) == [
            (COMPANY_A, "placement", None),
            (COMPANY_B, "placement", None),
            ("org-dinsos", "quarterly review", "quarterly review"),
        ]


async def test_forged_visits_no_longer_make_a_resident_independent(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency", org_id="org-dinsos")
    company = keys.headers("company", org_id=COMPANY_A)
    async with registry_and_matching(keys, backend, databases) as (client, d):
        rid = (await register(client, agency, resident(1)))["id"]
        honest = (await register(client, agency, resident(2)))["id"]
        await d.disclose(client, keys, rid, COMPANY_A, "p-a")
        await d.disclose(client, keys, honest, COMPANY_A, "p-h")

        # The forgery of the issue: a company's prosperous visits dated 2031.
        for day in (date(2031, 1, 10), date(2031, 6, 10)):
            for extra in ({}, {"placement_id": d.ids["p-a"]}):
                forged = await visit(client, company, rid, day, **PROSPEROUS, **extra)
                assert forged.status_code == 422, forged.text

        # The same forgery stored before the rules existed (no placement, no organisation
        # type), next to an agency's visit dated ahead of the day it was recorded.
        now = datetime.now(UTC)
        with client.app.state.db.session() as session:  # type: ignore[attr-defined]
            for n, (org, day) in enumerate(
                (
                    (COMPANY_A, date(2031, 1, 10)),
                    (COMPANY_A, date(2031, 6, 10)),
                    ("org-x", date(2030, 1, 1)),
                )
            ):
                session.add(
                    FollowUp(
                        id=f"legacy-{n}",
                        resident_id=rid,
                        visited_on=day,
                        employment_status="employed",
                        monthly_income_idr=8_000_000,
                        household_size=2,
                        income_per_member_idr=4_000_000,
                        organisation_id=org,
                        recorded_by="client:legacy",
                        recorded_at=now,
                    )
                )

        # One honest prosperous visit today: alone it proves nothing (two are needed, 90
        # days apart). With the forged ones counted the resident would be independent, and
        # the visit would not be the latest, so the resident's figures would stay behind.
        today = makassar_today()
        real = await visit(client, company, rid, today, placement_id=d.ids["p-a"], **PROSPEROUS)
        assert real.status_code == 201, real.text
        assert real.json()["resident_status"] == "registered"
        read = await client.get(f"/v1/residents/{rid}", headers=agency)
        assert read.json()["monthly_income_idr"] == 8_000_000

        # Honest visits still count: an agency's late visit with its real date 100 days ago
        # and the provider's visit of today make the other resident independent.
        late = await visit(client, agency, honest, today - timedelta(days=100), **PROSPEROUS)
        assert late.status_code == 201 and late.json()["resident_status"] == "registered"
        now_visit = await visit(
            client,
            company,
            honest,
            today,
            placement_id=d.ids["p-h"],
            income_source="employer_confirmed",
            **PROSPEROUS,
        )
        assert now_visit.status_code == 201, now_visit.text
        assert now_visit.json()["resident_status"] == "independent"
