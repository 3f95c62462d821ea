"""``GET /v1/reports/cohorts`` over the fixture programme (tests/reporting/programme.py) with
five of its residents enrolled in cohort KTB-2025, counted by hand, on SQLite and PostgreSQL:
the funnel per cohort and district, who left the targeted deciles (a later edition or a later
edit only), the median change of income per member, the cohort's targets, access and
small-cell suppression as in every report (issue 15)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.programme.cohorts import DecileStamp, left_targeted_deciles
from tests.reporting.programme import Stack
from tests.support.places import KELUMPANG_HILIR, PULAU_LAUT_UTARA, TARJUN
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio
JULY = {"decile_edition": "2025-07", "decile_effective_on": "2025-07-01"}
# Baseline decile and income per member of each participant, enrolled on 1 September 2025.
BASELINES = {"r1": (2, 300_000), "r2": (1, None), "r3": (3, 200_000), "r5": (4, 100_000)}
BASELINES |= {"r7": (1, 500_000), "r8": (1, 500_000)}  # r8: merged into r7, not counted


def enrol(stack: Stack, cohort: str = "KTB-2025") -> None:
    for name, (decile, income) in BASELINES.items():
        stack.programme.resident(
            name,
            "enrolled",
            cohort={
                "code": cohort,
                "baseline_on": "2025-09-01",
                "welfare_decile": decile,
                "decile_source": "DTSEN",
                **JULY,
                "income_per_member_idr": income,
                "target_max_decile": 4,
            },
        )


def new_deciles(stack: Stack) -> None:
    p = stack.programme
    # r1: January 2026's edition, decile 6: left.
    p.resident(
        "r1",
        "updated",
        welfare_decile=6,
        decile_edition="2026-01",
        decile_effective_on="2026-01-01",
    )
    # r2: July 2025's edition corrected to decile 7: the baseline's own edition, not left.
    p.resident("r2", "updated", welfare_decile=7, **JULY)
    # r3: an edit to decile 5 effective after the enrolment: left.
    p.resident(
        "r3", "updated", welfare_decile=5, decile_edition=None, decile_effective_on="2025-10-01"
    )
    # r5: an edit to decile 6 effective on the enrolment day itself: not after it, not left.
    p.resident(
        "r5", "updated", welfare_decile=6, decile_edition=None, decile_effective_on="2025-09-01"
    )


async def set_targets(stack: Stack, keys: TestKeys) -> None:
    def target(cohort: str | None, district: str, place: int, free: int) -> dict[str, Any]:
        return {
            "cohort": cohort,
            "district_code": district,
            "residents_to_place": place,
            "residents_to_become_independent": free,
        }

    body = {
        "targets": [
            target("KTB-2025", KELUMPANG_HILIR, 4, 2),
            target("KTB-2025", PULAU_LAUT_UTARA, 2, 1),
            target(None, KELUMPANG_HILIR, 10, 5),  # the district's standing target
            target("KTB-2026", KELUMPANG_HILIR, 6, 3),  # nobody enrolled yet
        ]
    }
    put = await stack.client.put("/v1/program/targets", json=body, headers=keys.headers("admin"))
    assert put.status_code == 200, put.text


async def cohort(stack: Stack, headers: dict[str, str], code: str, **params: str) -> Any:
    answer = await stack.client.get(f"/v1/reports/cohorts/{code}", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def funnel(row: dict[str, Any]) -> tuple[Any, ...]:
    names = ("enrolled", "proposed", "placed", "followed_up", "graduated", "left_targeted_deciles")
    return tuple(row[name] for name in names)


async def test_a_cohorts_funnel_left_deciles_and_targets(stack: Stack, keys: TestKeys) -> None:
    enrol(stack)
    enrol(stack)  # seen twice: the baseline stays as first frozen
    new_deciles(stack)
    await set_targets(stack, keys)
    await stack.sync()
    admin = keys.headers("admin")

    report = await cohort(stack, admin, "KTB-2025")
    # r1, r2, r3, r5, r7 (not r8, merged); all proposed; r1, r2 and r7 accepted; r1 and r7
    # visited; r7 graduated; r1 (later edition) and r3 (later edit) left the targeted deciles.
    assert funnel(report) == (5, 5, 3, 2, 1, 2)
    # r1: 400,000 - 300,000; r7: 900,000 - 500,000 (the others have no visit or no baseline).
    assert report["median_income_per_member_change_idr"] == 250_000
    assert report["targets"] == {
        "residents_to_place": 6,
        "residents_to_become_independent": 3,
        "placement_progress": 0.5,
        "graduation_progress": round(1 / 3, 4),
    }
    districts = {row["district_code"]: row for row in report["districts"]}
    assert funnel(districts[KELUMPANG_HILIR]) == (4, 4, 2, 1, 0, 2)
    assert districts[KELUMPANG_HILIR]["median_income_per_member_change_idr"] == 100_000
    assert districts[KELUMPANG_HILIR]["targets"]["placement_progress"] == 0.5
    assert funnel(districts[PULAU_LAUT_UTARA]) == (1, 1, 1, 1, 1, 0)
    assert districts[PULAU_LAUT_UTARA]["targets"]["graduation_progress"] == 1.0

    listed = await stack.client.get("/v1/reports/cohorts", headers=admin)
    assert listed.status_code == 200, listed.text
    items = {item["cohort"]: item for item in listed.json()["items"]}
    assert set(items) == {"KTB-2025", "KTB-2026"}
    assert items["KTB-2025"] == report
    assert funnel(items["KTB-2026"]) == (0, 0, 0, 0, 0, 0)
    assert items["KTB-2026"]["targets"]["residents_to_place"] == 6
    assert items["KTB-2026"]["median_income_per_member_change_idr"] is None

    # The summary keeps comparing with the district's standing target, not the cohorts'.
    summary = await stack.client.get(
        "/v1/reports/summary", params={"district_code": KELUMPANG_HILIR}, headers=admin
    )
    assert summary.json()["targets"]["residents_to_place"] == 10
    only = await stack.client.get("/v1/program/targets?cohort=KTB-2025", headers=admin)
    assert {(t["cohort"], t["district_code"]) for t in only.json()["items"]} == {
        ("KTB-2025", KELUMPANG_HILIR),
        ("KTB-2025", PULAU_LAUT_UTARA),
    }

    # Enrolments are counted by when reporting heard of them: none by the end of 2025.
    earlier = await cohort(stack, admin, "KTB-2025", as_of="2025-12-31")
    assert earlier["enrolled"] == 0 and earlier["targets"]["residents_to_place"] == 6


async def test_a_cohort_report_is_read_as_every_report(stack: Stack, keys: TestKeys) -> None:
    enrol(stack)
    new_deciles(stack)
    await set_targets(stack, keys)
    await stack.sync()

    district = await cohort(
        stack, keys.headers("district_government", region=KELUMPANG_HILIR), "KTB-2025"
    )
    assert funnel(district) == (4, 4, 2, 1, 0, 2)
    assert district["targets"]["residents_to_place"] == 4
    village = await cohort(stack, keys.headers("village_government", region=TARJUN), "KTB-2025")
    assert funnel(village) == (3, 3, 2, 1, 0, 2)  # r1, r2, r3
    assert village["targets"] is None  # targets are per district
    outside = await stack.client.get(
        "/v1/reports/cohorts/KTB-2025",
        params={"district_code": PULAU_LAUT_UTARA},
        headers=keys.headers("village_government", region=TARJUN),
    )
    assert outside.status_code == 404

    # Regional agencies: cells of 1-4 participants hidden, with a complement where one alone
    # would be given away by subtraction; a median stands on at least five changes.
    regional = await cohort(stack, keys.headers("regional_agency"), "KTB-2025")
    assert funnel(regional) == (5, 5, None, None, None, None)
    assert regional["median_income_per_member_change_idr"] is None
    assert regional["targets"]["placement_progress"] is None
    rows = {row["district_code"]: row for row in regional["districts"]}
    assert funnel(rows[KELUMPANG_HILIR]) == (None, None, None, None, 0, None)
    assert funnel(rows[PULAU_LAUT_UTARA]) == (None, None, None, None, None, 0)
    listed = await stack.client.get("/v1/reports/cohorts", headers=keys.headers("regional_agency"))
    [same] = [item for item in listed.json()["items"] if item["cohort"] == "KTB-2025"]
    assert same == regional

    provider = await stack.client.get("/v1/reports/cohorts", headers=keys.headers("company"))
    assert provider.status_code == 403
    admin = keys.headers("admin")
    missing = await stack.client.get("/v1/reports/cohorts/KTB-1999", headers=admin)
    assert missing.status_code == 404
    for path, params, field in (
        ("/v1/reports/cohorts/bad code!", {}, "code"),
        ("/v1/reports/cohorts", {"district_code": "99.99.99"}, "district_code"),
        ("/v1/program/targets", {"cohort": "no way"}, "cohort"),
    ):
        bad = await stack.client.get(path, params=params, headers=admin)
        assert bad.status_code == 422, path
        assert field in bad.text


async def test_targets_per_cohort_are_checked_and_kept_apart(stack: Stack, keys: TestKeys) -> None:
    admin = keys.headers("admin")
    target = {
        "district_code": KELUMPANG_HILIR,
        "residents_to_place": 4,
        "residents_to_become_independent": 2,
    }
    # The same district, standing and for two cohorts: three targets.
    body = {"targets": [target, {**target, "cohort": "KTB-2025"}, {**target, "cohort": "KTB-2026"}]}
    put = await stack.client.put("/v1/program/targets", json=body, headers=admin)
    assert put.status_code == 200, put.text
    assert [t["cohort"] for t in put.json()["items"]] == [None, "KTB-2025", "KTB-2026"]
    changed = {"targets": [{**target, "cohort": "KTB-2025", "residents_to_place": 9}]}
    put = await stack.client.put("/v1/program/targets", json=changed, headers=admin)
    assert [t["residents_to_place"] for t in put.json()["items"]] == [4, 9, 4]

    for payload, field in (
        ({"targets": [{**target, "cohort": "bad code!"}]}, "cohort"),
        ({"targets": [{**target, "cohort": "K"}, {**target, "cohort": "K"}]}, "district_code"),
    ):
        refused = await stack.client.put("/v1/program/targets", json=payload, headers=admin)
        assert refused.status_code == 422, payload
        assert field in refused.text
    listed = (await stack.client.get("/v1/program/targets", headers=admin)).json()["items"]
    assert [t["residents_to_place"] for t in listed] == [4, 9, 4]  # the refused PUTs wrote nothing


def test_left_needs_a_later_edition_or_a_later_edit() -> None:
    enrolled_on = date(2025, 9, 1)
    baseline = DecileStamp(2, "2025-07", date(2025, 7, 1))

    def left(decile: int, edition: str | None, effective_on: date, start: DecileStamp) -> bool:
        return left_targeted_deciles(
            start, enrolled_on, DecileStamp(decile, edition, effective_on), 4
        )

    assert left(6, "2026-01", date(2026, 1, 1), baseline)
    assert not left(4, "2026-01", date(2026, 1, 1), baseline)  # still targeted
    assert not left(6, "2025-07", date(2025, 7, 1), baseline)  # the same edition
    assert not left(6, "2024", date(2024, 1, 1), baseline)  # an older edition
    assert left(6, None, date(2025, 9, 2), baseline)  # an edit after the enrolment
    assert not left(6, None, date(2025, 9, 1), baseline)  # an edit that day
    assert not left(6, "2026-01", date(2026, 1, 1), DecileStamp(5, "2025-07", date(2025, 7, 1)))
    edited = DecileStamp(3, None, enrolled_on)  # a baseline decile from an edit
    assert left(6, "2025-10", date(2025, 10, 1), edited)
    assert not left(6, "2025-09", date(2025, 9, 1), edited)  # speaks from the enrolment day
