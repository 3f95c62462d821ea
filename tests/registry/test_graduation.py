"""Graduation by a rule you can read (issue 15, items 4 and 5), on SQLite and PostgreSQL: two
self-reported visits do not graduate and an employer-confirmed one does; the household
graduates, every member in the programme with it; ``GET .../graduation`` names each condition
and what is missing; an agency revokes with a reason."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.registry.support import Disclosures, WithMatching, register, resident
from tests.support.answers import json_body
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

COMPANY = "org-company-cement"
CARD = "6302061204910033"
# 4,000,000 for a household of 2: well above the 600,000 per member of the default line.
PROSPEROUS = {"employment_status": "employed", "monthly_income_idr": 4_000_000, "household_size": 2}


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Makassar")).date()


async def visit(
    client: httpx.AsyncClient, headers: dict[str, str], rid: str, on: date, **fields: Any
) -> dict[str, Any]:
    body = {**PROSPEROUS, "visited_on": on.isoformat(), **fields}
    return json_body(
        await client.post(f"/v1/residents/{rid}/follow-ups", json=body, headers=headers), 201
    )


async def graduation(
    client: httpx.AsyncClient, headers: dict[str, str], rid: str
) -> dict[str, Any]:
    return json_body(await client.get(f"/v1/residents/{rid}/graduation", headers=headers), 200)


async def test_self_reports_do_not_graduate_and_an_employer_confirmation_does(
    registry_matching: WithMatching, keys: TestKeys
) -> None:
    client, matching = registry_matching
    agency = keys.headers("government_agency")
    company = keys.headers("company", org_id=COMPANY)
    rid = (await register(client, agency, resident(1)))["id"]
    placements = Disclosures(matching)
    await placements.disclose(client, keys, rid, COMPANY, "cement")

    fresh = await graduation(client, agency, rid)
    assert fresh["graduated"] is False and fresh["events"] == []
    assert [c["name"] for c in fresh["conditions"]] == [
        "visits_above_poverty_line",
        "span_days",
        "verified_income",
    ]
    first = await visit(client, agency, rid, today() - timedelta(days=120))
    second = await visit(client, agency, rid, today() - timedelta(days=10))
    assert second["resident_status"] == "registered"
    judged = await graduation(client, agency, rid)
    assert judged["graduated"] is False
    conditions = {c["name"]: c for c in judged["conditions"]}
    assert conditions["visits_above_poverty_line"]["holds"] is True
    assert conditions["span_days"]["holds"] is True
    assert conditions["verified_income"]["holds"] is False
    assert "payslip" in conditions["verified_income"]["missing"]

    confirmed = await visit(
        client,
        company,
        rid,
        today(),
        income_source="employer_confirmed",
        evidence_ref="HR-2025-0931",
        placement_id=placements.ids["cement"],
    )
    assert confirmed["resident_status"] == "independent"
    judged = await graduation(client, agency, rid)
    assert judged["graduated"] is True
    assert all(c["holds"] and c["missing"] is None for c in judged["conditions"])
    [event] = judged["events"]
    assert event["rule_version"] == "2025.1" and event["revoked_at"] is None
    assert [v["id"] for v in event["evidence"]["visits"]] == [
        first["id"],
        second["id"],
        confirmed["id"],
    ]
    assert event["evidence"]["visits"][-1]["income_source"] == "employer_confirmed"
    audit = (await client.get(f"/v1/audit?resident_id={rid}", headers=keys.headers("admin"))).json()
    assert "graduation.read" in [a["action"] for a in audit["items"]]
    assert (await client.get(f"/v1/residents/{rid}/graduation", headers=company)).status_code == 403


async def test_the_household_graduates_and_an_agency_revokes_it(
    registry_matching: WithMatching, keys: TestKeys
) -> None:
    client, _ = registry_matching
    agency = keys.headers("government_agency")
    mother = (await register(client, agency, resident(1, family_card_number=CARD)))["id"]
    son = (
        await register(
            client, agency, resident(2, born=date(2004, 3, 1), sex="M", family_card_number=CARD)
        )
    )["id"]
    # The son takes part (enrolled); the mother's visits judge their household.
    cohort = {
        "code": "KTB-2025",
        "name": "Kotabaru pilot 2025",
        "year": 2025,
        "enrolment_opens": "2025-01-01",
        "enrolment_closes": "2099-12-31",
    }
    assert (await client.post("/v1/cohorts", json=cohort, headers=agency)).status_code == 201
    enrolled = await client.post(
        "/v1/cohorts/KTB-2025/enrolments", json={"resident_ids": [son]}, headers=agency
    )
    assert enrolled.status_code == 200, enrolled.text
    await visit(client, agency, mother, today() - timedelta(days=100), income_source="payslip")
    await visit(client, agency, mother, today() - timedelta(days=5))
    for rid in (mother, son):
        assert (await graduation(client, agency, rid))["graduated"] is True
        status = (await client.get(f"/v1/residents/{rid}", headers=agency)).json()["status"]
        assert status == "independent"

    village = keys.headers("village_government", region="63.02.17.2002")
    url = f"/v1/residents/{son}/graduation/revoke"
    reason = {"reason": "the payslip was of another employer"}
    assert (await client.post(url, json=reason, headers=village)).status_code == 403
    revoked = await client.post(url, json=reason, headers=agency)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["graduated"] is False
    assert revoked.json()["events"][0]["revoke_reason"] == reason["reason"]
    assert (await graduation(client, agency, mother))["graduated"] is False
    assert (await client.post(url, json=reason, headers=agency)).status_code == 409
    # The rule still holds on the old visits, but a revocation is not undone by them...
    assert (await client.get(f"/v1/residents/{son}", headers=agency)).json()[
        "status"
    ] != "independent"
    # ...only by new evidence.
    again = await visit(client, agency, son, today(), income_source="business_record")
    assert again["resident_status"] == "independent"
    assert (await graduation(client, agency, mother))["graduated"] is True

    # A later visit below the line ends it, by the rule.
    other_agency = keys.headers("government_agency", org_id="org-disnaker")
    poorer = await visit(
        client, other_agency, mother, today(), monthly_income_idr=900_000, household_size=3
    )
    assert poorer["resident_status"] != "independent"
    judged = await graduation(client, agency, son)
    assert judged["graduated"] is False
    assert judged["events"][0]["revoke_reason"].startswith("rule no longer holds")
    assert {c["name"] for c in judged["conditions"] if not c["holds"]} >= {
        "visits_above_poverty_line"
    }
