"""PUT by the provider's reference and the batch: HR systems push the same vacancy again and
again, and only real changes make new versions and feed events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from services.opportunities.catalogue.models import Opportunity
from tests.opportunities.conftest import Api, in_days, internship

pytestmark = pytest.mark.anyio


async def test_put_creates_then_an_identical_body_changes_nothing(api: Api) -> None:
    headers = api.as_("company", org_id="org-semen")
    path = "/v1/opportunities/external/LOK/2026/017"  # references may contain slashes
    body = internship(valid_through="2027-01-31")  # a date: the whole day, regency time
    created = await api.client.put(path, json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["external_id"] == "LOK/2026/017"
    assert created.json()["valid_through"] == "2027-01-31T15:59:59Z"  # 23:59:59 WITA

    # The same vacancy, its lists in another order and its deadline in another zone.
    again = dict(body)
    again["eligible_area_codes"] = list(reversed(body["eligible_area_codes"]))
    again["valid_through"] = "2027-01-31T15:59:59+00:00"
    for _ in range(3):
        same = await api.client.put(path, json=again, headers=headers)
        assert same.status_code == 200
        assert same.json() == created.json()
        assert same.headers["ETag"] == created.headers["ETag"]
    assert [c["event"] for c in await api.changes()] == ["created"]

    changed = await api.client.put(path, json={**body, "slots": 4}, headers=headers)
    assert changed.status_code == 200
    assert (changed.json()["version"], changed.json()["slots"]) == (2, 4)
    assert changed.json()["id"] == created.json()["id"]
    assert [c["event"] for c in await api.changes()] == ["created", "updated"]


async def test_put_publishes_a_draft_and_refuses_to_revive_a_cancelled_offer(api: Api) -> None:
    headers = api.as_("company", org_id="org-semen")
    path = "/v1/opportunities/external/VAC-2"
    draft = await api.client.put(path, json=internship(status="draft"), headers=headers)
    assert draft.json()["status"] == "draft"
    opened = await api.client.put(path, json=internship(), headers=headers)
    assert (opened.json()["status"], opened.json()["version"]) == ("open", 2)
    cancel = await api.client.post(
        f"/v1/opportunities/{opened.json()['id']}/close", json={"cancel": True}, headers=headers
    )
    assert cancel.json()["status"] == "cancelled"
    revived = await api.client.put(path, json=internship(slots=2), headers=headers)
    assert revived.status_code == 409
    events = [c["event"] for c in await api.changes()]
    assert events == ["created", "opened", "cancelled"]


async def test_references_are_per_provider_and_post_does_not_replace(api: Api) -> None:
    path = "/v1/opportunities/external/VAC-1"
    first = await api.client.put(path, json=internship(), headers=api.as_("company", org_id="a"))
    other = await api.client.put(path, json=internship(), headers=api.as_("company", org_id="b"))
    assert (first.status_code, other.status_code) == (201, 201)
    assert first.json()["id"] != other.json()["id"]
    again = await api.client.post(
        "/v1/opportunities",
        json=internship(external_id="VAC-1"),
        headers=api.as_("company", org_id="a"),
    )
    assert again.status_code == 409


async def test_batch_keeps_the_good_items_and_reports_the_bad_one(api: Api) -> None:
    headers = api.as_("company", org_id="org-sawit")
    job = {"kind": "job", "valid_through": in_days(30)}
    for reference in ("PANEN-0", "PANEN-9"):
        existing = await api.client.put(
            f"/v1/opportunities/external/{reference}", json=internship(**job), headers=headers
        )
        assert existing.status_code == 201
    items: list[dict[str, Any]] = [
        {**internship(**job, title="Pemanen sawit"), "external_id": "PANEN-1"},
        {**internship(**job, slots=2), "external_id": "PANEN-0"},  # a change
        {**internship(**job, min_age=12), "external_id": "PANEN-2"},  # a rule broken
        {**internship(**job, slots=0), "external_id": "PANEN-3"},  # a field invalid
        {**internship(**job), "title": "tanpa referensi"},  # no external_id
        {**internship(**job, slots=3), "external_id": "PANEN-1"},  # twice in the batch
        {**internship(**job), "external_id": "PANEN-9"},  # the same again
        {**internship(**job), "external_id": "PANEN-0"},  # PANEN-0 came at index 1
    ]
    response = await api.client.post(
        "/v1/opportunities/batch", json={"items": items}, headers=headers
    )
    assert response.status_code == 200, response.text
    report = response.json()
    results = [(r["index"], r["result"]) for r in report["items"]]
    assert results == [
        (0, "created"),
        (1, "updated"),
        (2, "error"),
        (3, "error"),
        (4, "error"),
        (5, "error"),
        (6, "unchanged"),
        (7, "error"),
    ]
    errors = {r["index"]: r["errors"][0]["loc"] for r in report["items"] if r["errors"]}
    assert errors[2] == ["body", "items", 2, "min_age"]
    assert errors[3] == ["body", "items", 3, "slots"]
    assert errors[4] == ["body", "items", 4, "external_id"]
    assert errors[5] == ["body", "items", 5, "external_id"]
    assert [report[k] for k in ("created", "updated", "unchanged", "failed")] == [1, 1, 1, 5]
    with api.db.session(write=False) as session:
        refs = session.scalars(
            select(col(Opportunity.external_id)).order_by(col(Opportunity.external_id))
        )
        assert list(refs) == ["PANEN-0", "PANEN-1", "PANEN-9"]
        slots = session.scalar(
            select(col(Opportunity.slots)).where(col(Opportunity.external_id) == "PANEN-0")
        )
        assert slots == 2


async def test_batch_size_is_capped(api: Api) -> None:
    items = [{**internship(), "external_id": f"V-{i}"} for i in range(501)]
    response = await api.client.post(
        "/v1/opportunities/batch", json={"items": items}, headers=api.as_("company")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "items"]
    with api.db.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Opportunity)) == 0
