"""The seeded pilot and `make demo`'s story, against the real processes."""

from __future__ import annotations

import stat
from collections import Counter

from deploy.pilot import data
from deploy.pilot.demo import Story, village_table
from deploy.pilot.seed import admin_client, load_credentials, seed_if_empty
from tests.e2e.conftest import E2E_RESIDENTS, Pilot


def test_the_seed_registers_the_pilot_through_the_gateway(pilot: Pilot) -> None:
    admin = admin_client(pilot.gateway)
    organisations = list(admin.pages("/v1/organisations"))
    by_type = Counter(o["type"] for o in organisations)
    assert by_type["village_government"] == 19
    assert by_type["government_agency"] == 3
    assert by_type["company"] == 3
    for org_type in ("university", "school", "ngo", "regional_agency"):
        assert by_type[org_type] == 1
    assert by_type["bumdes"] == 2
    villages = {o["region_code"] for o in organisations if o["type"] == "village_government"}
    assert villages == {v.code for v in data.pilot_villages()}

    # Every organisation of the file can get a token with its own credentials.
    saved = load_credentials(pilot.credentials_path)
    assert saved is not None and saved.complete and saved.residents == E2E_RESIDENTS
    assert stat.S_IMODE(pilot.credentials_path.stat().st_mode) == 0o600
    for key in saved.organisations:
        assert saved.client(pilot.gateway, key).token()

    # Other tests add offers to the same stack; the seed's are known by their references.
    references = {s.external_id for s in data.opportunities()}
    seeded = [o for o in admin.pages("/v1/opportunities") if o["external_id"] in references]
    assert len(seeded) == len(references) == len(data.opportunities())
    assert {o["kind"] for o in seeded} == {
        "job",
        "internship",
        "training",
        "business_capital",
        "mentoring",
    }
    assert {o["provider_org_type"] for o in seeded} == {
        "company",
        "university",
        "school",
        "bumdes",
        "ngo",
        "government_agency",
        "village_government",
    }

    stages = admin.get("/v1/program/stages")["items"]
    assert [s["code"] for s in stages] == list(data.STAGES)
    assert stages[3]["planned_start"] == "2025-09-01" and stages[3]["status"] == "in_progress"

    registered = sum(
        admin.get("/v1/reports/summary", params={"district_code": d})["residents"]["registered"]
        for d in data.PILOT_DISTRICTS
    )
    assert registered >= E2E_RESIDENTS


def test_seeding_again_leaves_a_seeded_programme_alone(pilot: Pilot) -> None:
    admin = admin_client(pilot.gateway)
    before = len(list(admin.pages("/v1/organisations")))
    messages: list[str] = []
    outcome = seed_if_empty(
        pilot.gateway, path=pilot.credentials_path, residents=E2E_RESIDENTS, log=messages.append
    )
    assert outcome == "already seeded"
    assert len(list(admin.pages("/v1/organisations"))) == before


def test_the_story_of_the_pilot(pilot: Pilot) -> None:
    told: list[str] = []
    story = Story(pilot.gateway, pilot.credentials, say=told.append)
    story.tell()

    # 1. The village registered three residents, verified and ranked them after the others.
    assert story.typo_status == 422
    assert [(r["status"], r["village_code"]) for r in story.registered] == [
        ("verified", data.TARJUN)
    ] * 3
    assert story.ranks == list(range(story.ranks[0], story.ranks[0] + 3))
    # 2. The import applied the good rows whole and named the field of each bad one.
    report = story.import_report
    assert (report["created"], report["rejected"]) == (8, 3)
    assert [(r["row"], r["column"]) for r in report["rejections"]] == [
        (10, "nik"),
        (11, "village_code"),
        (12, "welfare_decile"),
    ]
    # 3. The HR system's retry changed nothing.
    first, second = story.pushes
    assert (first["created"], second["created"], second["unchanged"]) == (3, 0, 3)
    assert {i["opportunity"]["version"] for i in second["items"]} == {1}
    # 4. The round proposed residents for the new internships, with an explanation.
    assert story.matching_run["status"] == "succeeded"
    statistics = story.matching_run["statistics"]
    assert statistics["policy"] == "priority" and statistics["justified_envy"] == 0
    assert statistics["other_policy"]["policy"] == "max_score"
    assert 1 <= len(story.proposals) <= 6
    best = min(story.proposals, key=lambda p: p["rank"])
    assert abs(story.explanation["score"] - best["score"]) < 0.01
    assert set(best["features"]) >= {"skills_match", "welfare_decile", "village_priority"}
    # 5-7. Accepted, disclosed to the company, started, completed, followed up.
    assert {p["status"] for p in story.accepted} == {"accepted"}
    assert story.disclosed_name
    assert {p["status"] for p in story.completed} == {"completed"}
    assert {v["income_per_member_idr"] for v in story.follow_ups} == {3_500_000 // 4}
    # 8. One grant of business capital, paid.
    assert story.grant["status"] == "completed"
    # 9. The three refusals.
    assert story.refusals["company lists residents"]["status"] == 403
    assert story.refusals["village reads another village"]["status"] == 404
    second_grant = story.refusals["second business capital"]
    assert second_grant["status"] == 422
    assert "capital_already_received" in second_grant["reasons"]
    # 10. The programme's goal: the interns' household graduated by the rule, with its plan.
    assert story.graduated == [p["resident_id"] for p in story.completed]
    counts = story.cohort["counts"]
    assert counts["graduated"] >= len(story.completed) and counts["enrolled"] >= counts["graduated"]
    # Known only for residents enrolled before their first visit: the three of step 1 when the
    # round placed them (interns it found elsewhere were visited before they were enrolled).
    assert counts["median_income_per_member_change_idr"] in (None, 3_500_000 // 4)
    # The reporting service's cohort report: the same graduates, against the cohort's targets.
    cohort = story.cohort_report
    assert cohort["graduated"] >= len(story.completed) and cohort["enrolled"] >= cohort["graduated"]
    assert cohort["placed"] >= len(story.completed)
    assert cohort["targets"]["residents_to_place"] == sum(
        t["residents_to_place"] for t in data.TARGETS
    )
    assert any(line.strip().startswith("all ") for line in told)
    # 11. The report counts the day's work, village by village, and the targeting table.
    assert {row["village_code"] for row in story.villages} == {
        v.code for v in data.pilot_villages() if v.code.startswith(data.KELUMPANG_HILIR)
    }
    total = story.report["placements"]["total"]
    assert total["slots_filled"] >= len(story.completed) + 1
    assert total["capital_disbursed_idr"] >= 3_000_000
    table = village_table(story.villages)
    assert table[-1].startswith("Kelumpang Hilir")
    assert any(line.startswith("12. The final report") for line in told)
    assert {row["village_code"] for row in story.targeting} <= {
        v.code for v in data.pilot_villages() if v.code.startswith(data.KELUMPANG_HILIR)
    }
    tarjun = next(row for row in story.targeting if row["village_code"] == data.TARJUN)
    assert tarjun["ranked"] >= 3


def test_the_story_can_be_told_again(pilot: Pilot) -> None:
    cement = pilot.credentials.client(pilot.gateway, data.CEMENT)
    own = {"provider_org_id": pilot.credentials.org(data.CEMENT).id}

    def references() -> list[str]:
        return [o["external_id"] for o in cement.pages("/v1/opportunities", params=own)]

    chapters = {r.split("-")[3] for r in references() if r.startswith("HRIS-STS-DEMO-")}
    again = Story(pilot.gateway, pilot.credentials, say=lambda _: None)
    again.tell()
    assert again.run == len(chapters) + 1
    assert (again.import_report["created"], again.import_report["rejected"]) == (8, 3)
    # The retried pushes of every chapter never duplicated an internship.
    assert len(references()) == len(set(references()))
