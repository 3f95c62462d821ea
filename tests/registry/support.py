"""Helpers of the registry tests: the app over a fresh database, NIKs that follow the rules,
residents to register, and the real matching app the registry asks about placements."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import anyio
import httpx

from services.matching.main import create_app as create_matching
from services.matching.placements.models import Placement
from services.matching.placements.service import record_step
from services.matching.settings import MatchingSettings
from services.registry.main import create_app
from services.registry.settings import RegistrySettings
from tests.support.answers import json_body
from tests.support.databases import DatabaseFactory
from tests.support.people import nik_for
from tests.support.places import KELUMPANG_HILIR, MEGASARI, PULAU_LAUT_UTARA, SERONGGA, TARJUN  # noqa: F401 - this area's names
from tests.support.problems import field_errors  # noqa: F401 - this area's helper
from tests.support.tokens import TestKeys, token_endpoint


def make_nik(born: date, sex: str, *, district: str = "630206", serial: str = "0001") -> str:
    return nik_for(district, born, sex, int(serial))


def resident(
    serial: int = 1, *, born: date = date(1991, 4, 12), sex: str = "F", **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nik": make_nik(born, sex, serial=f"{serial:04d}"),
        "full_name": f"Siti Rahmah {serial}",
        "sex": sex,
        "birth_date": born.isoformat(),
        "village_code": TARJUN,
        "welfare_decile": 2,
    }
    body.update(fields)
    return body


def employed(income_idr: int, household_size: int, **fields: Any) -> dict[str, Any]:
    """A follow-up visit's body: the resident employed, the household's monthly income."""
    return {
        "employment_status": "employed",
        "monthly_income_idr": income_idr,
        "household_size": household_size,
        **fields,
    }


class Matching:
    """The real matching app over its own fresh database, reached by the registry through an
    ASGITransport; its background loops do not run. ``placement`` writes a placement as
    matching's own transitions leave it (its read model and runs are not the registry's
    business), so the registry's question is answered by matching's real endpoint."""

    def __init__(self, url: str, keys: TestKeys) -> None:
        settings = MatchingSettings(database_url=url, jwks_url="", consume_feeds=False)
        self.app = create_matching(settings, verifier=keys.verifier())

    def placement(
        self,
        resident_id: str,
        org_id: str,
        status: str = "accepted",
        *,
        started_at: datetime | None = None,
        created_by_org: str = "org-dinsos",
        kind: str = "internship",
    ) -> str:
        """A placement as matching's transitions leave it, its step recorded as matching
        records one (history and feed)."""
        now = datetime.now(UTC)
        placement = Placement(
            status=status,
            resident_id=uuid.UUID(resident_id),
            opportunity_id=uuid.uuid4(),
            provider_org_id=org_id,
            provider_org_type="company",
            kind=kind,
            village_code=TARJUN,
            district_code=KELUMPANG_HILIR,
            created_by_org=created_by_org,
            offered_at=now,
            accepted_at=now if status in ("accepted", "started", "completed") else None,
            started_at=(started_at or now) if status in ("started", "completed") else None,
            created_at=now,
        )
        with self.app.state.db.session() as session:
            session.add(placement)
            session.flush()
            # Matching's own record of a step: its history row and its change on the feed.
            record_step(session, placement, None, created_by_org, "government_agency", now)
        return str(placement.id)

    def dispose(self) -> None:
        self.app.state.db.dispose()


@contextlib.asynccontextmanager
async def registry_client(
    url: str,
    keys: TestKeys,
    *,
    matching: Matching | None = None,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    **settings: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """``matching``: the matching app the registry asks before it records a disclosure and
    whose placement feed it reads (with a token from a stand-in of the gateway's endpoint);
    ``transports``: others of the registry's, e.g. its SMS gateway ("notify_transport") or its
    own token endpoint ("gateway_transport")."""
    wired: dict[str, Any] = {}
    if matching is not None:
        wired["matching_transport"] = httpx.ASGITransport(app=matching.app)
        wired["gateway_transport"] = httpx.ASGITransport(app=token_endpoint(keys, "org-registry"))
    wired.update(transports or {})
    app = create_app(
        RegistrySettings(database_url=url, jwks_url="", **settings),
        verifier=keys.verifier(),
        **wired,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
    await app.state.matching.aclose()
    await app.state.matching_as_registry.aclose()
    await app.state.sender.aclose()
    app.state.db.dispose()
    if matching is not None:
        matching.dispose()


# The registry's client and the matching app it asks, as ``registry_with_matching`` yields them.
WithMatching = tuple[httpx.AsyncClient, Matching]


@contextlib.asynccontextmanager
async def registry_with_matching(
    keys: TestKeys, backend: str, databases: DatabaseFactory, **settings: Any
) -> AsyncIterator[WithMatching]:
    """The registry asking the real matching app, each over a fresh database of ``backend``."""
    matching = Matching(databases.new(backend, "matching"), keys)
    async with registry_client(
        databases.new(backend, "registry"), keys, matching=matching, **settings
    ) as client:
        yield client, matching


async def register(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    return json_body(await client.post("/v1/residents", json=body, headers=headers), 201)


async def feed(
    client: httpx.AsyncClient, headers: dict[str, str], expected: int, attempts: int = 200
) -> list[dict[str, Any]]:
    """Every change on the feed, once ``expected`` are visible. On PostgreSQL the feed holds
    back rows behind any transaction still open on the server (other test sessions share it),
    so the changes may appear a moment after they commit."""
    items: list[dict[str, Any]] = []
    for _ in range(attempts):
        items, cursor = [], "0.0"
        while True:
            page = (
                await client.get(f"/v1/changes?after={cursor}&limit=1000", headers=headers)
            ).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        if len(items) >= expected:
            return items
        await anyio.sleep(0.05)
    return items


class PlacementIds(dict[str, str]):
    """The tests' names of placements, to the ids matching gave them; a name never placed
    is an id matching does not know."""

    def __missing__(self, label: str) -> str:
        self[label] = str(uuid.uuid4())
        return self[label]


class Disclosures:
    """Placements accepted in the real matching app, disclosed as matching discloses them."""

    def __init__(self, matching: Matching) -> None:
        self.matching = matching
        self.ids = PlacementIds()

    async def disclose(
        self, client: httpx.AsyncClient, keys: TestKeys, rid: str, org_id: str, label: str
    ) -> None:
        """What matching posts when the resident accepts a placement of ``org_id``."""
        self.ids[label] = self.matching.placement(rid, org_id)
        response = await client.post(
            f"/v1/residents/{rid}/disclosures",
            json={
                "org_id": org_id,
                "purpose": "placement",
                "placement_id": self.ids[label],
                "valid_until": "2099-12-31",
            },
            headers=keys.headers("service"),
        )
        assert response.status_code == 201, response.text
