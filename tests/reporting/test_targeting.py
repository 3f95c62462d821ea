"""``GET /v1/reports/targeting`` over the fixture programme (tests/reporting/programme.py),
counted by hand, on SQLite and PostgreSQL: inclusion and exclusion errors per village, the
target group's shares ranked, proposed and placed; access and small-cell suppression as in
every report."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.reporting.programme import MEGASARI, SERONGGA, TARJUN, Stack
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio


async def rows(stack: Stack, headers: dict[str, str], **params: str) -> dict[str, dict[str, Any]]:
    answer = await stack.client.get("/v1/reports/targeting", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return {row["village_code"]: row for row in answer.json()["items"]}


async def test_inclusion_and_exclusion_errors_per_village(stack: Stack, keys: TestKeys) -> None:
    # Tarjun ranks r1 (decile 2) and r2 (decile 1), both targeted; r3 (decile 3) is unranked
    # but no less poor resident is ranked above her: no error yet.
    before = await rows(stack, keys.headers("admin"), district_code="63.02.17")
    assert before[TARJUN] == {
        "district_code": "63.02.17",
        "village_code": TARJUN,
        "target_group": 3,
        "ranked": 2,
        "inclusion_errors": 0,
        "exclusion_errors": 0,
        "share_target_ranked": round(2 / 3, 4),
        "share_target_proposed": 1.0,  # p1, p2 and p5
        "share_target_placed": round(2 / 3, 4),  # p1 and p2 started
    }
    assert before[SERONGGA]["target_group"] == 1 and before[SERONGGA]["ranked"] == 0
    assert MEGASARI not in before  # another district

    # The village ranks r9, decile 6 (outside the target group): an inclusion error, and r3
    # (decile 3, targeted) is now left unranked below a less poor resident: an exclusion error.
    stack.programme.register(
        "r9", TARJUN, "M", 40, "primary", 6, "07-09", in_target_group=False, priority_rank=3
    )
    await stack.sync()
    after = await rows(stack, keys.headers("government_agency"))
    assert after[TARJUN]["inclusion_errors"] == 1
    assert after[TARJUN]["exclusion_errors"] == 1
    assert after[TARJUN]["ranked"] == 3 and after[TARJUN]["target_group"] == 3
    assert after[MEGASARI]["inclusion_errors"] == 0  # r8, merged, is not counted

    village = await rows(stack, keys.headers("village_government", region=SERONGGA))
    assert set(village) == {SERONGGA}
    provider = await stack.client.get("/v1/reports/targeting", headers=keys.headers("company"))
    assert provider.status_code == 403
    bad = await stack.client.get(
        "/v1/reports/targeting", params={"district_code": "99.99.99"}, headers=keys.headers("admin")
    )
    assert bad.status_code == 422


async def test_regional_agencies_read_suppressed_cells(stack: Stack, keys: TestKeys) -> None:
    regional = await rows(stack, keys.headers("regional_agency"))
    # Every village of the fixture counts fewer than 5 residents: hidden, and so its share.
    for row in regional.values():
        for name in ("target_group", "ranked"):
            assert row[name] in (None, 0)
        if row["target_group"] is None:
            assert row["share_target_ranked"] is None
    assert regional[TARJUN]["target_group"] is None
    paged = await stack.client.get(
        "/v1/reports/targeting", params={"limit": "1"}, headers=keys.headers("admin")
    )
    assert len(paged.json()["items"]) == 1 and paged.json()["next_cursor"]
    rest = await stack.client.get(
        "/v1/reports/targeting",
        params={"limit": "50", "cursor": paged.json()["next_cursor"]},
        headers=keys.headers("admin"),
    )
    assert paged.json()["items"][0]["village_code"] not in {
        r["village_code"] for r in rest.json()["items"]
    }


async def test_a_report_as_of_today_counts_what_the_report_of_now_counts(
    stack: Stack, keys: TestKeys
) -> None:
    # ``as_of`` compares the placements' times with a cutoff: SQLite hands them back naive, and
    # the fuzzer found the comparison answering 500 there.
    today = datetime.now(ZoneInfo("Asia/Makassar")).date().isoformat()
    now = await rows(stack, keys.headers("admin"), district_code="63.02.17")
    as_of = await rows(stack, keys.headers("admin"), district_code="63.02.17", as_of=today)
    assert as_of == now and now[TARJUN]["share_target_placed"] == round(2 / 3, 4)
