"""Who may publish, read and edit: DESIGN.md's access matrix, row by row."""

from __future__ import annotations

from typing import Any

import pytest

from tests.opportunities.conftest import MEGASARI, TARJUN, Api, internship

pytestmark = pytest.mark.anyio


async def _publish(api: Api, headers: dict[str, str], **overrides: object) -> dict[str, Any]:
    response = await api.client.post(
        "/v1/opportunities", json=internship(**overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_every_publisher_type_publishes_under_its_own_name(api: Api) -> None:
    for org_type in (
        "admin",
        "government_agency",
        "company",
        "university",
        "school",
        "bumdes",
        "ngo",
    ):
        headers = api.as_(org_type, org_id=f"org-{org_type}")
        # Claiming another provider is refused (mass assignment), not silently corrected.
        forged = internship(provider_org_id="someone-else", provider_org_type="admin")
        refused = await api.client.post("/v1/opportunities", json=forged, headers=headers)
        assert refused.status_code == 422, (org_type, refused.text)
        response = await api.client.post("/v1/opportunities", json=internship(), headers=headers)
        assert response.status_code == 201, (org_type, response.text)
        # The provider is the token's organisation, never what the body claims.
        assert response.json()["provider_org_id"] == f"org-{org_type}"
        assert response.json()["provider_org_type"] == org_type


async def test_readers_that_may_not_publish(api: Api) -> None:
    regional = api.as_("regional_agency")
    response = await api.client.post("/v1/opportunities", json=internship(), headers=regional)
    assert response.status_code == 403
    put = await api.client.put(
        "/v1/opportunities/external/X-1", json=internship(), headers=regional
    )
    assert put.status_code == 403
    # Even a token carrying the write scope does not make a regional agency a publisher.
    forged = api.as_("regional_agency", scopes={"opportunities:read", "opportunities:write"})
    response = await api.client.post("/v1/opportunities", json=internship(), headers=forged)
    assert response.status_code == 403
    assert (await api.client.get("/v1/opportunities")).status_code == 401
    # A service reads the change feed, not the catalogue.
    assert (
        await api.client.get("/v1/opportunities", headers=api.as_("service"))
    ).status_code == 403


async def test_every_organisation_reads_open_opportunities(api: Api) -> None:
    opened = await _publish(api, api.as_("company", org_id="org-semen"))
    for org_type in ("regional_agency", "village_government", "ngo", "government_agency"):
        region = TARJUN if org_type == "village_government" else None
        headers = api.as_(org_type, region=region)
        one = await api.client.get(f"/v1/opportunities/{opened['id']}", headers=headers)
        assert one.status_code == 200, org_type
        listed = await api.client.get("/v1/opportunities", headers=headers)
        assert [o["id"] for o in listed.json()["items"]] == [opened["id"]]


async def test_drafts_are_seen_by_their_owner_and_the_admin_only(api: Api) -> None:
    owner = api.as_("company", org_id="org-semen")
    draft = await _publish(api, owner, status="draft")
    path = f"/v1/opportunities/{draft['id']}"
    assert (await api.client.get(path, headers=owner)).status_code == 200
    assert (await api.client.get(path, headers=api.as_("admin"))).status_code == 200
    for other in (api.as_("company", org_id="org-sawit"), api.as_("regional_agency")):
        assert (await api.client.get(path, headers=other)).status_code == 404
        listed = await api.client.get("/v1/opportunities", headers=other)
        assert listed.json()["items"] == []
    # Another provider cannot edit or close it either, nor learn that it exists.
    closing = await api.client.post(f"{path}/close", headers=api.as_("company", org_id="x"))
    assert closing.status_code == 404


async def test_providers_edit_their_own_and_the_admin_edits_all(api: Api) -> None:
    owner = api.as_("company", org_id="org-semen")
    opened = await _publish(api, owner)
    path = f"/v1/opportunities/{opened['id']}"
    etag = (await api.client.get(path, headers=owner)).headers["ETag"]

    rival = api.as_("company", org_id="org-sawit")
    response = await api.client.patch(path, json={"slots": 1}, headers={**rival, "If-Match": etag})
    assert response.status_code == 403
    assert (await api.client.post(f"{path}/close", headers=rival)).status_code == 403
    agency = api.as_("government_agency", org_id="org-disnaker")
    response = await api.client.patch(path, json={"slots": 1}, headers={**agency, "If-Match": etag})
    assert response.status_code == 403

    response = await api.client.patch(
        path, json={"slots": 12}, headers={**api.as_("admin"), "If-Match": etag}
    )
    assert response.status_code == 200, response.text
    assert response.json()["slots"] == 12
    assert response.json()["provider_org_id"] == "org-semen"

    response = await api.client.patch(
        path, json={"slots": 8}, headers={**owner, "If-Match": response.headers["ETag"]}
    )
    assert response.status_code == 200
    assert response.json()["version"] == 3


async def test_a_local_government_publishes_for_its_own_region_only(api: Api) -> None:
    village = api.as_("village_government", org_id="org-desa-tarjun", region=TARJUN)
    own = await _publish(api, village, eligible_area_codes=[], location_village_code=TARJUN)
    # "The whole regency" is not a village's to offer: it defaults to the village itself.
    assert own["eligible_area_codes"] == [TARJUN]

    elsewhere = await api.client.post(
        "/v1/opportunities", json=internship(location_village_code=MEGASARI), headers=village
    )
    assert elsewhere.status_code == 403
    wider = await api.client.post(
        "/v1/opportunities",
        json=internship(eligible_area_codes=["63.02.17"]),  # the whole district
        headers=village,
    )
    assert wider.status_code == 403

    district = api.as_("district_government", org_id="org-kec", region="63.02.17")
    within = await api.client.post("/v1/opportunities", json=internship(), headers=district)
    assert within.status_code == 201
    outside = await api.client.post(
        "/v1/opportunities", json=internship(location_village_code=MEGASARI), headers=district
    )
    assert outside.status_code == 403


async def test_patch_needs_the_current_etag(api: Api) -> None:
    owner = api.as_("company", org_id="org-semen")
    opened = await _publish(api, owner)
    path = f"/v1/opportunities/{opened['id']}"
    response = await api.client.patch(path, json={"slots": 3}, headers=owner)
    assert response.status_code == 428
    first = await api.client.get(path, headers=owner)
    etag = first.headers["ETag"]
    changed = await api.client.patch(path, json={"slots": 3}, headers={**owner, "If-Match": etag})
    assert changed.status_code == 200
    stale = await api.client.patch(path, json={"slots": 4}, headers={**owner, "If-Match": etag})
    assert stale.status_code == 412
    assert (await api.client.get(path, headers=owner)).json()["slots"] == 3
