"""An opportunity past its valid_through stops being open by itself, and every create,
update and status change reaches the change feed with the contract's payload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest
from sqlalchemy import update

from services.opportunities.catalogue.models import Opportunity
from services.opportunities.catalogue.tasks import sweep
from tests.opportunities.conftest import Api, in_days, internship

pytestmark = pytest.mark.anyio

CONTRACT_FIELDS = {
    "id", "provider_org_id", "provider_org_type", "external_id", "kind", "title",
    "occupation_code", "skills_required", "skills_taught", "min_age", "max_age",
    "min_education", "sex", "disability_friendly", "location_village_code",
    "eligible_area_codes", "slots", "pay_idr", "grant_amount_idr", "start_date", "end_date",
    "valid_through", "status", "version", "created_at", "updated_at",
}  # fmt: skip


def _let_deadline_pass(api: Api, *ids: str) -> None:
    """Time passing, as the database sees it: the deadline moves into the past."""
    with api.db.session() as session:
        session.execute(
            update(Opportunity)
            .where(Opportunity.id.in_(ids))  # type: ignore[attr-defined]
            .values(valid_through=datetime.now(UTC) - timedelta(minutes=1))
        )


async def _publish(api: Api, headers: dict[str, str], **overrides: object) -> str:
    response = await api.client.post(
        "/v1/opportunities", json=internship(**overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_an_expired_opportunity_closes_on_read_on_touch_and_by_the_sweep(api: Api) -> None:
    owner = api.as_("company", org_id="org-semen")
    touched, swept, current = [await _publish(api, owner) for _ in range(3)]
    _let_deadline_pass(api, touched, swept)

    # Computed on read, before anything is stored.
    listed = await api.client.get("/v1/opportunities", params={"status": "open"}, headers=owner)
    assert [o["id"] for o in listed.json()["items"]] == [current]
    closed = await api.client.get("/v1/opportunities", params={"status": "closed"}, headers=owner)
    assert {o["id"] for o in closed.json()["items"]} == {touched, swept}
    assert all(o["status"] == "closed" for o in closed.json()["items"])

    # Touched: the closing is stored and fed.
    one = await api.client.get(f"/v1/opportunities/{touched}", headers=owner)
    assert (one.json()["status"], one.json()["version"]) == ("closed", 2)
    expired = [c for c in await api.changes() if c["event"] == "expired"]
    assert [(c["entity_id"], c["version"]) for c in expired] == [(touched, 2)]

    # The sweep of the background task stores the rest, once.
    assert sweep(api.db, api.settings) == 1
    assert sweep(api.db, api.settings) == 0
    expired = [c for c in await api.changes() if c["event"] == "expired"]
    assert [c["entity_id"] for c in expired] == [touched, swept]
    assert expired[1]["payload"]["status"] == "closed"


async def test_an_expired_opportunity_reopens_with_a_new_deadline(api: Api) -> None:
    owner = api.as_("company", org_id="org-semen")
    opportunity = await _publish(api, owner)
    _let_deadline_pass(api, opportunity)
    path = f"/v1/opportunities/{opportunity}"
    etag = (await api.client.get(path, headers=owner)).headers["ETag"]
    response = await api.client.patch(
        path,
        json={"valid_through": in_days(14), "status": "open"},
        headers={**owner, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["version"]) == ("open", 3)
    assert [c["event"] for c in await api.changes()] == ["created", "expired", "opened"]


async def test_every_change_is_fed_with_the_contract_payload(api: Api) -> None:
    owner = api.as_("company", org_id="org-semen")
    created = await api.client.post(
        "/v1/opportunities", json=internship(status="draft"), headers=owner
    )
    path = f"/v1/opportunities/{created.json()['id']}"
    etag = created.headers["ETag"]
    for patch in ({"slots": 4}, {"status": "open"}):
        response = await api.client.patch(path, json=patch, headers={**owner, "If-Match": etag})
        assert response.status_code == 200, response.text
        etag = response.headers["ETag"]
    assert (await api.client.post(f"{path}/close", headers=owner)).json()["status"] == "closed"
    # Closing twice changes nothing.
    assert (await api.client.post(f"{path}/close", headers=owner)).json()["version"] == 4

    changes = await api.changes()
    assert [(c["event"], c["version"]) for c in changes] == [
        ("created", 1),
        ("updated", 2),
        ("opened", 3),
        ("closed", 4),
    ]
    for change in changes:
        assert change["entity"] == "opportunity"
        assert set(change["payload"]) >= CONTRACT_FIELDS
        assert change["payload"]["version"] == change["version"]

    # A service reads them through GET /v1/changes. On a PostgreSQL server shared with other
    # sessions the feed rightly holds rows back behind their open transactions, so what it
    # serves may be a prefix of the outbox, never anything else.
    fed: list[dict[str, object]] = []
    for _ in range(20):
        response = await api.client.get("/v1/changes", headers=api.as_("service"))
        assert response.status_code == 200
        fed = response.json()["items"]
        if len(fed) == len(changes):
            break
        await anyio.sleep(0.1)
    assert [c["payload"] for c in fed] == [c["payload"] for c in changes[: len(fed)]]
    if api.db.is_sqlite:
        assert len(fed) == len(changes)
    assert (await api.client.get("/v1/changes", headers=owner)).status_code == 403


async def test_the_running_service_sweeps_by_itself(api: Api) -> None:
    owner = api.as_("company", org_id="org-semen")
    opportunity = await _publish(api, owner)
    _let_deadline_pass(api, opportunity)
    api.settings.expiry_interval_seconds = 0.05
    # The app's own lifespan starts the background task, as uvicorn would.
    async with api.app.router.lifespan_context(api.app):
        for _ in range(100):
            if any(c["event"] == "expired" for c in await api.changes()):
                break
            await anyio.sleep(0.05)
    assert [c["event"] for c in await api.changes()] == ["created", "expired"]
