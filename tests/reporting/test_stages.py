"""Programme stages and targets: measured progress, and the admin's idempotent PUTs."""

from __future__ import annotations

import pytest

from tests.reporting.programme import KELUMPANG_HILIR, Stack
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

STAGES = [
    "preparation",
    "data_integration",
    "program_sync",
    "distribution_trial",
    "monitoring_evaluation",
]


async def test_stages_list_progress_and_put(stack: Stack, keys: TestKeys) -> None:
    admin = keys.headers("admin")
    listed = (await stack.client.get("/v1/program/stages", headers=admin)).json()["items"]
    assert [stage["code"] for stage in listed] == STAGES
    assert all(stage["status"] == "planned" for stage in listed)
    progress = {stage["code"]: stage["progress"] for stage in listed}
    assert progress["data_integration"][0] == {
        "measure": "villages_with_data",
        "value": 3,  # Tarjun, Serongga, Megasari
        "of": None,  # no targets yet, so no villages to expect
        "ratio": None,
    }
    assert progress["data_integration"][1]["value"] == 6  # residents verified
    assert progress["program_sync"][0]["value"] == 2  # C1 and B1 published offers
    assert progress["distribution_trial"][0]["value"] == 3  # r1, r2, r7 placed
    assert progress["monitoring_evaluation"][0]["value"] == 2  # follow-ups
    assert progress["monitoring_evaluation"][1]["value"] == 1  # independent

    plan = {
        "planned_start": "2025-09-01",
        "planned_end": "2025-09-30",
        "actual_start": "2025-09-02",
        "actual_end": None,
        "status": "in_progress",
    }
    for _ in range(2):  # a PUT sent twice leaves the same state
        put = await stack.client.put(
            "/v1/program/stages/distribution_trial", json=plan, headers=admin
        )
        assert put.status_code == 200, put.text
        assert put.json()["status"] == "in_progress"
        assert put.json()["actual_start"] == "2025-09-02"
    listed = (await stack.client.get("/v1/program/stages", headers=admin)).json()["items"]
    trial = next(stage for stage in listed if stage["code"] == "distribution_trial")
    assert (trial["planned_start"], trial["planned_end"], trial["status"]) == (
        "2025-09-01",
        "2025-09-30",
        "in_progress",
    )

    bad = await stack.client.put(
        "/v1/program/stages/distribution_trial",
        json={**plan, "planned_end": "2025-08-01"},
        headers=admin,
    )
    assert bad.status_code == 422
    assert "planned_end" in bad.text
    done_without_end = await stack.client.put(
        "/v1/program/stages/preparation", json={"status": "done"}, headers=admin
    )
    assert done_without_end.status_code == 422
    unknown = await stack.client.put("/v1/program/stages/harvest", json=plan, headers=admin)
    assert unknown.status_code == 422
    for org_type in ("government_agency", "regional_agency", "company"):
        denied = await stack.client.put(
            "/v1/program/stages/preparation", json=plan, headers=keys.headers(org_type)
        )
        assert denied.status_code == 403


async def test_targets_set_progress(stack: Stack, keys: TestKeys) -> None:
    admin = keys.headers("admin")
    body = {
        "targets": [
            {
                "district_code": KELUMPANG_HILIR,
                "residents_to_place": 4,
                "residents_to_become_independent": 2,
            }
        ]
    }
    for _ in range(2):
        put = await stack.client.put("/v1/program/targets", json=body, headers=admin)
        assert put.status_code == 200, put.text
    # A target sent without a cohort is the district's standing one (cohort null).
    standing = [{"cohort": None, **target} for target in body["targets"]]
    assert put.json()["items"] == standing

    summary = (
        await stack.client.get(
            "/v1/reports/summary", params={"district_code": KELUMPANG_HILIR}, headers=admin
        )
    ).json()
    assert summary["targets"] == {
        "residents_to_place": 4,
        "residents_to_become_independent": 2,
        "residents_placed": 2,  # r1 and r2 accepted
        "placement_progress": 0.5,
        "residents_independent": 0,
        "independence_progress": 0.0,
    }
    stages = (await stack.client.get("/v1/program/stages", headers=admin)).json()["items"]
    integration = next(s for s in stages if s["code"] == "data_integration")
    # Kelumpang Hilir has 9 villages; Tarjun and Serongga sent data (Megasari is elsewhere).
    assert integration["progress"][0]["of"] == 9
    trial = next(s for s in stages if s["code"] == "distribution_trial")
    assert trial["progress"][0] == {
        "measure": "residents_placed",
        "value": 3,
        "of": 4,
        "ratio": 0.75,
    }

    cases = [
        ({"targets": [{**body["targets"][0], "district_code": "63.02.99"}]}, "district_code"),
        ({"targets": [{**body["targets"][0], "residents_to_place": -1}]}, "residents_to_place"),
        ({"targets": [body["targets"][0], body["targets"][0]]}, "district_code"),
        ({"targets": []}, "targets"),
    ]
    for payload, field in cases:
        response = await stack.client.put("/v1/program/targets", json=payload, headers=admin)
        assert response.status_code == 422, payload
        assert field in response.text
    listed = (await stack.client.get("/v1/program/targets", headers=admin)).json()["items"]
    assert listed == standing  # the refused PUTs wrote nothing
    denied = await stack.client.put(
        "/v1/program/targets",
        json=body,
        headers=keys.headers("district_government", region=KELUMPANG_HILIR),
    )
    assert denied.status_code == 403
