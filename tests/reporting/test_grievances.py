"""Complaints in the reports (issue 20): counted by category from the registry's feed, with
those past their SLA, as of a day; villages see their own, regional agencies small counts
hidden. Payloads are the registry's own (``grievances.service.payload``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.registry.grievances.models import Grievance
from services.registry.grievances.service import payload
from tests.reporting.programme import Stack, uid
from tests.support.places import MEGASARI, TARJUN
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio


def _noon(day: str) -> datetime:
    return datetime.fromisoformat(f"2025-{day}T04:00:00+00:00").astimezone(UTC)


def publish(
    stack: Stack,
    name: str,
    category: str,
    village: str,
    opened: str,
    due: str,
    closed: str | None = None,
    version: int = 1,
) -> None:
    grievance = Grievance(
        id=uid(name),
        code=name.upper(),
        category=category,
        village_code=village,
        district_code=village.rsplit(".", 1)[0],
        description="never on the feed",
        resident_id="never-on-the-feed",
        opened_by_type="resident",
        status="resolved" if closed else "open",
        due_on=date.fromisoformat(f"2025-{due}"),
        version=version,
        opened_at=_noon(opened),
        closed_at=_noon(closed) if closed else None,
    )
    body = payload(grievance)
    assert "description" not in body and "resident_id" not in body
    stack.programme.registry.replay("grievance", grievance.id, grievance.status, version, body)


async def _report(stack: Stack, keys: TestKeys, org_type: str, **params: Any) -> dict[str, Any]:
    token = {k: params.pop(k) for k in ("region",) if k in params}
    response = await stack.client.get(
        "/v1/reports/grievances", params=params, headers=keys.headers(org_type, **token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _category(report: dict[str, Any], category: str) -> dict[str, Any]:
    return next(row for row in report["by_category"] if row["category"] == category)


async def test_a_complaint_past_its_sla_shows_in_the_report(
    empty_stack: Stack, keys: TestKeys
) -> None:
    stack = empty_stack
    publish(stack, "g1", "payment", TARJUN, "10-01", "10-06")  # still open: breached
    publish(stack, "g2", "placement", TARJUN, "10-01", "10-08", closed="10-05")  # in time
    publish(stack, "g3", "conduct", TARJUN, "10-01", "10-06", closed="10-10")  # late
    publish(stack, "g4", "payment", MEGASARI, "10-15", "10-20")  # open, due on the 20th
    # A second version of g2 replaces the first: one complaint, counted once.
    publish(stack, "g2", "placement", TARJUN, "10-01", "10-08", closed="10-05", version=2)
    assert await stack.sync() >= 5

    report = await _report(stack, keys, "admin", as_of="2025-10-20")
    assert report["total"] == {"opened": 4, "open": 2, "breached": 2}
    assert _category(report, "payment") == {
        "category": "payment",
        "opened": 2,
        "open": 2,
        "breached": 1,
    }
    assert _category(report, "conduct")["breached"] == 1
    assert _category(report, "placement")["breached"] == 0
    assert _category(report, "targeting") == {
        "category": "targeting",
        "opened": 0,
        "open": 0,
        "breached": 0,
    }
    # The day after g4's due day it is past its SLA too.
    later = await _report(stack, keys, "admin", as_of="2025-10-21")
    assert later["total"]["breached"] == 3
    # Before g1's due day had passed, nothing was breached, and g3 was still open.
    early = await _report(stack, keys, "admin", as_of="2025-10-06")
    assert early["total"] == {"opened": 3, "open": 2, "breached": 0}

    village = await _report(stack, keys, "village_government", region=TARJUN, as_of="2025-10-20")
    assert village["total"] == {"opened": 3, "open": 1, "breached": 2}
    regional = await _report(stack, keys, "regional_agency", as_of="2025-10-20")
    # Every count here is below the threshold: hidden, zeros shown.
    assert regional["total"] == {"opened": None, "open": None, "breached": None}
    assert _category(regional, "targeting")["opened"] == 0


async def test_the_report_is_403_to_those_who_read_no_reports(
    empty_stack: Stack, keys: TestKeys
) -> None:
    response = await empty_stack.client.get(
        "/v1/reports/grievances", headers=keys.headers("service")
    )
    assert response.status_code == 403
