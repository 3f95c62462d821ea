"""Browsing the catalogue: filters, cursor pages, and the skills vocabulary."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.opportunities.conftest import MEGASARI, Api, in_days, internship

pytestmark = pytest.mark.anyio


async def test_filters_and_cursor_pages(api: Api) -> None:
    semen = api.as_("company", org_id="org-semen")
    ngo = api.as_("ngo", org_id="org-lsm")
    ids = {}
    ids["kiln"] = (
        await api.client.post("/v1/opportunities", json=internship(), headers=semen)
    ).json()["id"]
    ids["seaweed"] = (
        await api.client.post(
            "/v1/opportunities",
            json=internship(
                kind="training",
                title="Pelatihan budidaya rumput laut",
                skills_required=[],
                skills_taught=["seaweed-farming"],
                location_village_code=MEGASARI,
                eligible_area_codes=[],
                valid_through=in_days(3),
            ),
            headers=ngo,
        )
    ).json()["id"]
    ids["draft"] = (
        await api.client.post("/v1/opportunities", json=internship(status="draft"), headers=semen)
    ).json()["id"]

    async def found(**params: str) -> list[str]:
        response = await api.client.get("/v1/opportunities", params=params, headers=ngo)
        assert response.status_code == 200, response.text
        names = {v: k for k, v in ids.items()}
        return [names[o["id"]] for o in response.json()["items"]]

    assert await found() == ["kiln", "seaweed"]  # the draft is the company's alone
    assert await found(kind="training") == ["seaweed"]
    assert await found(district_code="63.02.17") == ["kiln"]
    assert await found(village_code=MEGASARI) == ["seaweed"]
    assert await found(provider_org_id="org-semen") == ["kiln"]
    assert await found(skill="seaweed-farming") == ["seaweed"]
    assert await found(skill="basic-numeracy") == ["kiln"]
    assert await found(open_on=(date.today() + timedelta(days=10)).isoformat()) == ["kiln"]
    assert await found(status="draft") == []

    owner_view = await api.client.get("/v1/opportunities", params={"limit": 2}, headers=semen)
    first = owner_view.json()
    assert [o["id"] for o in first["items"]] == [ids["kiln"], ids["seaweed"]]
    second = await api.client.get(
        "/v1/opportunities", params={"limit": 2, "cursor": first["next_cursor"]}, headers=semen
    )
    assert [o["id"] for o in second.json()["items"]] == [ids["draft"]]
    assert second.json()["next_cursor"] is None

    typo = await api.client.get(
        "/v1/opportunities", params={"skill": "seaweed-farmin"}, headers=ngo
    )
    assert typo.status_code == 422
    assert "seaweed-farming" in typo.json()["detail"]
    bad = await api.client.get("/v1/opportunities", params={"cursor": "nonsense"}, headers=ngo)
    assert bad.status_code == 422


async def test_skills_vocabulary(api: Api) -> None:
    headers = api.as_("regional_agency")
    cement = await api.client.get("/v1/skills", params={"group": "cement"}, headers=headers)
    assert cement.status_code == 200
    assert "cement-kiln-operation" in {s["slug"] for s in cement.json()["items"]}
    assert {s["group"] for s in cement.json()["items"]} == {"cement"}
    searched = await api.client.get("/v1/skills", params={"q": "rumput laut"}, headers=headers)
    assert {s["slug"] for s in searched.json()["items"]} >= {"seaweed-farming"}

    slugs: list[str] = []
    cursor = None
    while True:
        params = {"limit": 60, **({"cursor": cursor} if cursor else {})}
        page = (await api.client.get("/v1/skills", params=params, headers=headers)).json()
        slugs += [s["slug"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert slugs == sorted(slugs)
    assert 100 <= len(slugs) <= 200
    assert (await api.client.get("/v1/skills")).status_code == 401
