"""Cohorts with a frozen baseline (issue 15, item 1), on SQLite and PostgreSQL: a cohort is
defined by the secretariat or an agency, enrolling freezes each resident's decile, household
income per member, employment and household size as they stood, and the cohort counts who left
the targeted deciles and how income per member changed since."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from tests.registry.support import SERONGGA, TARJUN, register, resident
from tests.support.problems import error_fields
from tests.support.tokens import TestKeys

COHORT = {
    "code": "KTB-2025",
    "name": "Kotabaru pilot 2025",
    "year": 2025,
    "enrolment_opens": "2025-08-01",
    "enrolment_closes": "2025-10-31",
}
CARD = "6302061204910055"


async def new_cohort(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    answer = await client.post("/v1/cohorts", json=COHORT, headers=headers)
    assert answer.status_code == 201, answer.text


@pytest.mark.anyio
async def test_enrolment_freezes_the_baseline(registry: httpx.AsyncClient, keys: TestKeys) -> None:
    agency = keys.headers("government_agency")
    await new_cohort(registry, agency)
    assert (await registry.post("/v1/cohorts", json=COHORT, headers=agency)).status_code == 200
    clash = await registry.post("/v1/cohorts", json={**COHORT, "year": 2026}, headers=agency)
    assert clash.status_code == 409
    village = keys.headers("village_government", region=TARJUN)
    assert (
        await registry.post("/v1/cohorts", json={**COHORT, "code": "X"}, headers=village)
    ).status_code == 403

    body = resident(
        1,
        family_card_number=CARD,
        welfare_decile=3,
        monthly_income_idr=1_500_000,
        household_size=5,
        employment_status="unemployed",
    )
    rid = (await register(registry, agency, body))["id"]
    enrolled = await registry.post(
        "/v1/cohorts/KTB-2025/enrolments",
        json={"resident_ids": [rid], "enrolled_on": "2025-08-20"},
        headers=village,
    )
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json() == {"cohort": "KTB-2025", "enrolled": [rid], "already_enrolled": []}

    # The resident moves on: a visit and a new decile; the baseline stays.
    visit = {
        "employment_status": "employed",
        "monthly_income_idr": 4_000_000,
        "household_size": 4,
        "visited_on": "2025-10-01",
        "income_source": "payslip",
    }
    assert (
        await registry.post(f"/v1/residents/{rid}/follow-ups", json=visit, headers=agency)
    ).status_code == 201
    current = (await registry.get(f"/v1/residents/{rid}", headers=agency)).json()
    patched = await registry.patch(
        f"/v1/residents/{rid}",
        json={"welfare_decile": 6},
        headers={**agency, "If-Match": f'"{current["version"]}"'},
    )
    assert patched.status_code == 200, patched.text
    again = await registry.post(
        "/v1/cohorts/KTB-2025/enrolments",
        json={"resident_ids": [rid], "enrolled_on": "2025-10-02"},
        headers=agency,
    )
    assert again.json()["already_enrolled"] == [rid]

    enrolments = await registry.get(f"/v1/residents/{rid}/enrolments", headers=agency)
    assert enrolments.status_code == 200, enrolments.text
    [item] = enrolments.json()["items"]
    assert item["cohort"] == "KTB-2025" and item["enrolled_via"] == "request"
    assert item["baseline"] == {
        "baseline_on": "2025-08-20",
        "welfare_decile": 3,
        "decile_source": None,
        "decile_edition": None,
        "household_income_idr": 1_500_000,
        "household_size": 5,
        "income_per_member_idr": 300_000,
        "employment_status": "unemployed",
    }
    cohort = (await registry.get("/v1/cohorts/KTB-2025", headers=agency)).json()
    assert cohort["counts"] == {
        "enrolled": 1,
        "graduated": 0,
        "left_targeted_deciles": 1,
        "median_income_per_member_change_idr": 700_000,
    }
    audit = (
        await registry.get(f"/v1/audit?resident_id={rid}", headers=keys.headers("admin"))
    ).json()
    assert "enrolment.read" in [entry["action"] for entry in audit["items"]]
    assert (
        await registry.get(f"/v1/residents/{rid}/enrolments", headers=keys.headers("company"))
    ).status_code == 403


@pytest.mark.anyio
async def test_an_enrolment_with_one_resident_out_of_reach_enrols_nobody(
    registry: httpx.AsyncClient, keys: TestKeys
) -> None:
    agency = keys.headers("government_agency")
    await new_cohort(registry, agency)
    own = (await register(registry, agency, resident(1)))["id"]
    elsewhere = (await register(registry, agency, resident(2, village_code=SERONGGA)))["id"]
    village = keys.headers("village_government", region=TARJUN)
    url = "/v1/cohorts/KTB-2025/enrolments"
    answer = await registry.post(
        url, json={"resident_ids": [own, elsewhere], "enrolled_on": "2025-09-01"}, headers=village
    )
    assert answer.status_code == 422 and error_fields(answer) == {"resident_ids.1"}
    late = await registry.post(
        url, json={"resident_ids": [own], "enrolled_on": "2025-11-15"}, headers=agency
    )
    assert late.status_code == 422 and error_fields(late) == {"enrolled_on"}
    missing = await registry.post(
        "/v1/cohorts/NOPE/enrolments", json={"resident_ids": [own]}, headers=agency
    )
    assert missing.status_code == 404
    cohort = (await registry.get("/v1/cohorts/KTB-2025", headers=agency)).json()
    assert cohort["counts"]["enrolled"] == 0
    assert (await registry.get(f"/v1/residents/{own}/enrolments", headers=agency)).json()[
        "items"
    ] == []
    assert date.fromisoformat(cohort["enrolment_closes"]) == date(2025, 10, 31)
