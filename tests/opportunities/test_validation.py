"""Each rule of an opportunity answers 422 naming its field, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from services.opportunities.catalogue.models import Opportunity
from tests.opportunities.conftest import MEGASARI, Api, error_fields, in_days, internship

pytestmark = pytest.mark.anyio

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("dates in order", {"start_date": "2027-01-10", "end_date": "2027-01-09"}, "end_date"),
    ("applications close before the end", {"end_date": "2026-12-02"}, "valid_through"),
    ("at least one slot", {"slots": 0}, "slots"),
    ("minimum age of work", {"min_age": 14}, "min_age"),
    ("maximum age of work", {"max_age": 65}, "max_age"),
    ("age bounds in order", {"min_age": 30, "max_age": 20}, "max_age"),
    ("known village", {"location_village_code": "63.02.17.2999"}, "location_village_code"),
    ("village of the regency", {"location_village_code": "63.01.01.2001"}, "location_village_code"),
    ("known eligible area", {"eligible_area_codes": ["63.02.99"]}, "eligible_area_codes.0"),
    ("malformed region code", {"location_village_code": "Tarjun"}, "location_village_code"),
    ("pay not negative", {"pay_idr": -1}, "pay_idr"),
    ("grant only for capital", {"grant_amount_idr": 5_000_000}, "grant_amount_idr"),
    ("sex needs a reason", {"sex": "F"}, "sex_reason"),
    ("known kind", {"kind": "volunteering"}, "kind"),
    ("known education", {"min_education": "phd"}, "min_education"),
    ("open offer still current", {"valid_through": in_days(-1)}, "valid_through"),
    ("known required skill", {"skills_required": ["welding-smav"]}, "skills_required"),
    ("known taught skill", {"skills_taught": ["kiln"]}, "skills_taught"),
]


async def test_each_broken_rule_is_422_naming_its_field(api: Api) -> None:
    # One app for every case: a fresh database per case would cost more than the checks.
    for rule, change, field in CASES:
        response = await api.client.post(
            "/v1/opportunities", json=internship(**change), headers=api.as_("company")
        )
        assert response.status_code == 422, (rule, response.text)
        assert field in error_fields(response), (rule, response.text)
    with api.db.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Opportunity)) == 0
    ok = await api.client.post("/v1/opportunities", json=internship(), headers=api.as_("company"))
    assert ok.status_code == 201, ok.text


async def test_unknown_skill_suggests_the_closest(api: Api) -> None:
    response = await api.client.post(
        "/v1/opportunities",
        json=internship(skills_required=["welding-smav"]),
        headers=api.as_("company"),
    )
    assert response.status_code == 422
    assert "welding-smaw" in response.json()["errors"][0]["msg"]


async def test_kind_specific_rules_accept_what_they_should(api: Api) -> None:
    body = internship(kind="business_capital", pay_idr=None)
    response = await api.client.post("/v1/opportunities", json=body, headers=api.as_("company"))
    assert error_fields(response) == {"grant_amount_idr"}
    body["grant_amount_idr"] = 10_000_000
    response = await api.client.post("/v1/opportunities", json=body, headers=api.as_("company"))
    assert response.status_code == 201, response.text
    assert response.json()["grant_amount_idr"] == 10_000_000

    # Training and mentoring take any age.
    for kind in ("training", "mentoring"):
        body = internship(kind=kind, min_age=14, max_age=70, location_village_code=MEGASARI)
        response = await api.client.post("/v1/opportunities", json=body, headers=api.as_("ngo"))
        assert response.status_code == 201, response.text
        assert (response.json()["min_age"], response.json()["max_age"]) == (14, 70)

    # One sex only, with the reason stated.
    body = internship(sex="F", sex_reason="Koperasi perempuan penjahit sasirangan")
    response = await api.client.post("/v1/opportunities", json=body, headers=api.as_("bumdes"))
    assert response.status_code == 201, response.text
    assert response.json()["sex"] == "F"


async def test_patch_is_checked_against_the_merged_opportunity(api: Api) -> None:
    headers = api.as_("company", org_id="org-semen")
    created = await api.client.post("/v1/opportunities", json=internship(), headers=headers)
    etag = created.headers["ETag"]
    response = await api.client.patch(
        f"/v1/opportunities/{created.json()['id']}",
        json={"start_date": "2027-06-01"},  # after the stored end_date
        headers={**headers, "If-Match": etag},
    )
    assert response.status_code == 422
    assert error_fields(response) == {"end_date"}


@pytest.mark.parametrize("field", ["title", "description"])
async def test_a_nul_byte_in_a_text_field_is_an_answer_not_a_crash(
    api: Api, backend: str, field: str
) -> None:
    # The fuzzer found this one: PostgreSQL text cannot hold NUL, and the DataError reached the
    # server as a crash after the 422 was sent. The test client raises what reaches the server.
    response = await api.client.post(
        "/v1/opportunities", json=internship(**{field: "a\x00b"}), headers=api.as_("company")
    )
    if backend == "postgresql":
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body"]
    else:  # SQLite stores it
        assert response.status_code == 201
