"""The status event feed for those who may see residents: events in order with a cursor,
residents only as HMAC pseudonyms, no personal data, region scoping for local governments.
Regional agencies read counts (test_suppression.py)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from tests.reporting.programme import C1, KELUMPANG_HILIR, MEGASARI, TARJUN, Stack, uid
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

PUBLIC_FIELDS = {
    "cursor",
    "event",
    "resident",
    "village_code",
    "district_code",
    "kind",
    "occurred_at",
}


def _pseudonym(stack: Stack, name: str) -> str:
    key = stack.settings.pseudonym_key.encode()
    return hmac.new(key, uid(name).encode(), hashlib.sha256).hexdigest()


async def test_feed_lists_status_events_with_pseudonyms(stack: Stack, keys: TestKeys) -> None:
    agency = keys.headers("government_agency")
    items: list[dict] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 5, **({"after": cursor} if cursor else {})}
        response = await stack.client.get("/v1/reports/feed", params=params, headers=agency)
        assert response.status_code == 200
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        pages += 1
        if not page["has_more"]:
            break
    assert pages == 3
    events = [(item["event"], item["resident"], item["kind"]) for item in items]
    # 6 verified, 3 placed (accepted), 2 completed, 1 independent.
    assert sorted(e for e, _, _ in events) == sorted(
        ["verified"] * 6 + ["placed"] * 3 + ["completed"] * 2 + ["independent"]
    )
    assert ("placed", _pseudonym(stack, "r7"), "business_capital") in events
    assert ("independent", _pseudonym(stack, "r7"), None) in events
    assert ("completed", _pseudonym(stack, "r1"), "internship") in events
    assert [int(item["cursor"]) for item in items] == sorted(int(i["cursor"]) for i in items)

    # Nothing but the public fields, and no resident id in the clear anywhere.
    text = json.dumps(items)
    assert all(set(item) == PUBLIC_FIELDS for item in items)
    for name in ("r1", "r2", "r3", "r5", "r6", "r7"):
        assert uid(name) not in text

    # Reading on from the last cursor gives nothing new.
    rest = await stack.client.get("/v1/reports/feed", params={"after": cursor}, headers=agency)
    assert rest.json() == {"items": [], "next_cursor": cursor, "has_more": False}
    bad = await stack.client.get("/v1/reports/feed", params={"after": "x1"}, headers=agency)
    assert bad.status_code == 422
    assert "after" in bad.text


async def test_feed_scoping(stack: Stack, keys: TestKeys) -> None:
    district = keys.headers("district_government", region=KELUMPANG_HILIR)
    items = (await stack.client.get("/v1/reports/feed", headers=district)).json()["items"]
    assert items
    assert {item["district_code"] for item in items} == {KELUMPANG_HILIR}
    village = keys.headers("village_government", region=MEGASARI)
    items = (await stack.client.get("/v1/reports/feed", headers=village)).json()["items"]
    assert {item["village_code"] for item in items} == {MEGASARI}
    assert TARJUN not in json.dumps(items)
    provider = await stack.client.get(
        "/v1/reports/feed", headers=keys.headers("company", org_id=C1)
    )
    assert provider.status_code == 403


def test_production_refuses_the_development_pseudonym_key() -> None:
    from services.reporting.settings import ReportingSettings
    from shared.kit.settings import ProductionSettingError

    settings = ReportingSettings(
        environment="production",
        database_url="postgresql://reporting@db/reporting",
        client_secret="a-real-secret",
    )
    with pytest.raises(ProductionSettingError, match="REPORTING_PSEUDONYM_KEY"):
        settings.check_production()
    short = settings.model_copy(update={"pseudonym_key": "short-key"})
    with pytest.raises(ProductionSettingError, match="at least 32"):
        short.check_production()
    fine = settings.model_copy(update={"pseudonym_key": "k" * 48})
    fine.check_production()
    assert fine.production_problems() == []
