"""The opportunities app under test, on a fresh migrated database of each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.opportunities.main import create_app
from services.opportunities.settings import OpportunitiesSettings
from services.opportunities.tables import feed_tables
from shared.kit.database import Database
from tests.support.databases import DatabaseFactory
from tests.support.places import KELUMPANG_HILIR, MEGASARI, TARJUN  # noqa: F401 - this area's names
from tests.support.problems import error_fields  # noqa: F401 - this area's helper
from tests.support.tokens import TestKeys


def in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def internship(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "internship",
        "title": "Magang operator kiln",
        "description": "Enam bulan di pabrik semen Tarjun, didampingi operator senior.",
        "occupation_code": "8114",
        "skills_required": ["basic-numeracy"],
        "skills_taught": ["cement-kiln-operation", "occupational-health-safety"],
        "min_age": 18,
        "max_age": 30,
        "min_education": "senior_secondary",
        "location_village_code": TARJUN,
        "eligible_area_codes": [KELUMPANG_HILIR],
        "slots": 10,
        "pay_idr": 2_500_000,
        "start_date": "2026-12-01",
        "end_date": "2027-05-31",
        "valid_through": in_days(30),
    }
    body.update(overrides)
    return body


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    keys: TestKeys

    @property
    def db(self) -> Database:
        db: Database = self.app.state.db
        return db

    @property
    def settings(self) -> OpportunitiesSettings:
        settings: OpportunitiesSettings = self.app.state.settings
        return settings

    def as_(self, org_type: str, **kwargs: Any) -> dict[str, str]:
        return self.keys.headers(org_type, **kwargs)

    async def changes(self) -> list[dict[str, Any]]:
        """The outbox rows written so far, oldest first.

        Read from the table, not through ``/v1/changes``: on a PostgreSQL server shared with
        other test sessions, the feed rightly holds back rows behind any transaction still
        open anywhere on the server, which would make these assertions wait on strangers.
        """
        outbox = feed_tables.outbox
        with self.db.session(write=False) as session:
            rows = session.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
        return [dict(row) for row in rows]


@pytest.fixture
async def api(backend: str, databases: DatabaseFactory, keys: TestKeys) -> AsyncIterator[Api]:
    url = databases.new(backend, "opportunities")
    app = create_app(OpportunitiesSettings(database_url=url, jwks_url=""), verifier=keys.verifier())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://opportunities") as client:
        yield Api(client, app, keys)
    app.state.db.dispose()
