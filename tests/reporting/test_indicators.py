"""Indicators of the fixture programme (tests/reporting/programme.py), computed by hand, on
SQLite and PostgreSQL; access per organisation type; small-cell suppression."""

from __future__ import annotations

import pytest

from tests.reporting.programme import (
    B1,
    C1,
    KELUMPANG_HILIR,
    MEGASARI,
    PULAU_LAUT_UTARA,
    SERONGGA,
    TARJUN,
    Stack,
)
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

ZERO_BLOCK = {
    "proposed": 0,
    "offered": 0,
    "accepted": 0,
    "started": 0,
    "completed": 0,
    "dropped": 0,
    "slots_filled": 0,
    "capital_disbursed_idr": 0,
}


async def _summary(stack: Stack, headers: dict[str, str], **params: str) -> dict:
    response = await stack.client.get("/v1/reports/summary", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_regency_summary_matches_hand_count(stack: Stack, keys: TestKeys) -> None:
    body = await _summary(stack, keys.headers("admin"))
    # r8 was merged into r7: a duplicate is not a second resident.
    assert body["residents"] == {
        "registered": 7,
        "verified": 6,
        "in_target_group": 5,
        "prioritised": 2,
        "independent": 1,
        "graduated": 1,
        "in_target_group_by": {
            "sex": {"F": 4, "M": 1},
            "age_band": {"15-24": 1, "25-34": 1, "35-44": 1, "45-54": 2},
            "education_level": {"junior_secondary": 1, "primary": 2, "senior_secondary": 2},
            "welfare_decile": {"1": 2, "2": 1, "3": 1, "4": 1},
            "disability": {"no": 4, "yes": 1},
        },
    }
    # o3 was cancelled and o4 never opened: neither was offered.
    assert body["opportunities"]["opportunities"] == 2
    assert body["opportunities"]["slots"] == 8
    assert body["opportunities"]["by_kind"]["internship"] == {"opportunities": 1, "slots": 5}
    assert body["opportunities"]["by_kind"]["job"] == {"opportunities": 0, "slots": 0}
    assert body["opportunities"]["by_provider_type"] == {
        "bumdes": {"opportunities": 1, "slots": 3},
        "company": {"opportunities": 1, "slots": 5},
    }
    placements = body["placements"]
    assert placements["total"] == {
        "proposed": 5,
        "offered": 4,
        "accepted": 3,
        "started": 3,
        "completed": 2,
        "dropped": 1,
        "slots_filled": 2,  # p1 and p4; p2 was dropped
        "capital_disbursed_idr": 5_000_000,
    }
    assert placements["by_kind"]["internship"] == {
        "proposed": 4,
        "offered": 3,
        "accepted": 2,
        "started": 2,
        "completed": 1,
        "dropped": 1,
        "slots_filled": 1,
        "capital_disbursed_idr": 0,
    }
    assert placements["by_kind"]["business_capital"]["capital_disbursed_idr"] == 5_000_000
    assert placements["by_kind"]["training"] == ZERO_BLOCK
    assert body["follow_ups_recorded"] == 2
    assert body["funnel"] == {
        "proposed": {"residents": 5, "ratio_to_previous": None},
        "offered": {"residents": 4, "ratio_to_previous": 0.8},
        "accepted": {"residents": 3, "ratio_to_previous": 0.75},
        "started": {"residents": 3, "ratio_to_previous": 1.0},
        "completed": {"residents": 2, "ratio_to_previous": 0.6667},
        "independent": {"residents": 1, "ratio_to_previous": 0.5},
    }
    assert body["targets"] is None
    assert body["suppressed_below"] is None


async def test_as_of_counts_what_had_happened_by_that_day(stack: Stack, keys: TestKeys) -> None:
    july = await _summary(stack, keys.headers("admin"), as_of="2025-07-31")
    # On 31 July r8 was not yet known to be a duplicate, r3 not yet verified, nothing offered.
    assert july["residents"]["registered"] == 8
    assert july["residents"]["verified"] == 5
    assert july["residents"]["independent"] == 0
    assert july["opportunities"]["opportunities"] == 0
    assert july["placements"]["total"] == ZERO_BLOCK
    assert july["follow_ups_recorded"] == 0

    august = await _summary(stack, keys.headers("admin"), as_of="2025-08-31")
    assert august["placements"]["total"] == {
        "proposed": 5,
        "offered": 4,
        "accepted": 3,
        "started": 3,
        "completed": 0,
        "dropped": 0,  # p2 dropped on 1 September
        "slots_filled": 3,
        "capital_disbursed_idr": 5_000_000,
    }
    # o3 was cancelled only later (when the change was recorded), so it counted in August.
    assert august["opportunities"]["opportunities"] == 3


async def test_villages_rows(stack: Stack, keys: TestKeys) -> None:
    response = await stack.client.get(
        "/v1/reports/villages", params={"limit": 500}, headers=keys.headers("admin")
    )
    assert response.status_code == 200
    rows = {row["village_code"]: row for row in response.json()["items"]}
    assert rows[TARJUN] == {
        "district_code": KELUMPANG_HILIR,
        "district_name": "Kelumpang Hilir",
        "village_code": TARJUN,
        "village_name": "Tarjun",
        "registered": 4,
        "verified": 3,
        "in_target_group": 3,
        "prioritised": 2,
        "proposed": 3,
        "offered": 2,
        "accepted": 2,
        "started": 2,
        "completed": 1,
        "dropped": 1,
        "slots_filled": 1,
        "capital_disbursed_idr": 0,
        "follow_ups": 1,
        "independent": 0,
        "graduated": 0,
    }
    assert rows[MEGASARI]["registered"] == 2
    assert rows[MEGASARI]["capital_disbursed_idr"] == 5_000_000
    assert rows[MEGASARI]["independent"] == 1
    assert rows[SERONGGA]["offered"] == 1
    assert rows[SERONGGA]["accepted"] == 0
    # Every village of the regency has a row, those without data too.
    assert rows["63.02.17.2009"]["registered"] == 0
    assert all(code.startswith("63.02.") for code in rows)
    assert len(rows) > 100


async def test_villages_paginate(stack: Stack, keys: TestKeys) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        params = {"limit": 25, **({"cursor": cursor} if cursor else {})}
        page = (
            await stack.client.get(
                "/v1/reports/villages", params=params, headers=keys.headers("admin")
            )
        ).json()
        seen += [row["village_code"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(set(seen))
    whole = await stack.client.get(
        "/v1/reports/villages", params={"limit": 500}, headers=keys.headers("admin")
    )
    assert seen == [row["village_code"] for row in whole.json()["items"]]
    bad = await stack.client.get(
        "/v1/reports/villages", params={"cursor": "%%%"}, headers=keys.headers("admin")
    )
    assert bad.status_code == 422


async def test_providers_rows(stack: Stack, keys: TestKeys) -> None:
    response = await stack.client.get("/v1/reports/providers", headers=keys.headers("admin"))
    assert response.status_code == 200
    rows = {row["provider_org_id"]: row for row in response.json()["items"]}
    assert rows == {
        C1: {
            "provider_org_id": C1,
            "provider_org_type": "company",
            "opportunities": 1,
            "slots_offered": 5,
            "slots_filled": 1,
            "started": 2,
            "completed": 1,
            "dropped": 1,
        },
        B1: {
            "provider_org_id": B1,
            "provider_org_type": "bumdes",
            "opportunities": 1,
            "slots_offered": 3,
            "slots_filled": 1,
            "started": 1,
            "completed": 1,
            "dropped": 0,
        },
    }


async def test_district_and_village_governments_see_their_region(
    stack: Stack, keys: TestKeys
) -> None:
    district = keys.headers("district_government", region=KELUMPANG_HILIR)
    body = await _summary(stack, district)
    assert body["region"] == KELUMPANG_HILIR
    assert body["residents"]["registered"] == 5  # r1-r4 in Tarjun, r5 in Serongga
    assert body["placements"]["total"]["proposed"] == 4  # r1, r2, r3, r5
    assert body["placements"]["total"]["capital_disbursed_idr"] == 0
    assert body["opportunities"]["opportunities"] == 1  # o1 in Tarjun; o3 cancelled

    narrowed = await _summary(stack, district, village_code=TARJUN)
    assert narrowed["residents"]["registered"] == 4

    # Outside the region: 404, never 403, so regions cannot be probed.
    for params in ({"district_code": PULAU_LAUT_UTARA}, {"village_code": MEGASARI}):
        outside = await stack.client.get("/v1/reports/summary", params=params, headers=district)
        assert outside.status_code == 404
        assert outside.headers["content-type"] == "application/problem+json"

    village = keys.headers("village_government", region=TARJUN)
    rows = (await stack.client.get("/v1/reports/villages", headers=village)).json()["items"]
    assert [row["village_code"] for row in rows] == [TARJUN]
    assert rows[0]["registered"] == 4


async def test_provider_sees_only_its_own_opportunities(stack: Stack, keys: TestKeys) -> None:
    company = keys.headers("company", org_id=C1)
    body = await _summary(stack, company)
    assert body["residents"] is None
    assert body["provider_org_id"] == C1
    assert body["opportunities"]["opportunities"] == 1
    assert body["placements"]["total"]["proposed"] == 4  # p1, p2, p3, p5 on o1
    assert body["placements"]["total"]["capital_disbursed_idr"] == 0
    rows = (await stack.client.get("/v1/reports/providers", headers=company)).json()["items"]
    assert [row["provider_org_id"] for row in rows] == [C1]
    villages = (await stack.client.get("/v1/reports/villages", headers=company)).json()["items"]
    assert {row["village_code"] for row in villages} == {TARJUN, SERONGGA}
    assert all(row["registered"] is None for row in villages)


async def test_regional_agency_gets_small_cells_suppressed(stack: Stack, keys: TestKeys) -> None:
    body = await _summary(stack, keys.headers("regional_agency"))
    assert body["suppressed_below"] == 5
    residents = body["residents"]
    assert (residents["registered"], residents["verified"], residents["in_target_group"]) == (
        7,
        6,
        5,
    )
    assert residents["prioritised"] is None  # 2
    assert residents["independent"] is None  # 1
    assert residents["in_target_group_by"]["sex"] == {"F": None, "M": None}
    total = body["placements"]["total"]
    assert total["proposed"] == 5
    assert total["offered"] is None
    assert total["dropped"] is None
    # One resident received capital: the rupiah sum would be hers alone.
    assert total["capital_disbursed_idr"] is None
    assert body["placements"]["by_kind"]["job"]["proposed"] == 0  # zero names nobody
    assert body["opportunities"]["opportunities"] == 2  # not about residents: shown
    assert body["funnel"]["offered"] == {"residents": None, "ratio_to_previous": None}

    rows = (
        await stack.client.get(
            "/v1/reports/villages", params={"limit": 500}, headers=keys.headers("regional_agency")
        )
    ).json()["items"]
    tarjun = next(row for row in rows if row["village_code"] == TARJUN)
    assert tarjun["registered"] is None  # 4 residents
    assert tarjun["started"] is None
    # The secretariat sees the same cells.
    admin = await _summary(stack, keys.headers("admin"))
    assert admin["residents"]["prioritised"] == 2


async def test_bad_filters_name_the_field(stack: Stack, keys: TestKeys) -> None:
    admin = keys.headers("admin")
    cases = [
        ({"district_code": "63.02.99"}, "district_code"),
        ({"village_code": "Tarjun"}, "village_code"),
        ({"district_code": PULAU_LAUT_UTARA, "village_code": TARJUN}, "village_code"),
        ({"as_of": "2025-13-01"}, "as_of"),
        ({"as_of": "2999-01-01"}, "as_of"),
        ({"format": "pdf"}, "format"),
    ]
    for params, field in cases:
        response = await stack.client.get("/v1/reports/summary", params=params, headers=admin)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in response.text
    assert (await stack.client.get("/v1/reports/summary")).status_code == 401
    service = await stack.client.get("/v1/reports/summary", headers=keys.headers("service"))
    assert service.status_code == 403
