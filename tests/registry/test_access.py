"""DESIGN.md's access matrix for the registry, cell by cell: each organisation type against a
resident of its own region and of a foreign one, and the audit record of every disclosure."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.registry.support import (
    KELUMPANG_HILIR,
    MEGASARI,
    PULAU_LAUT_UTARA,
    TARJUN,
    register,
    registry_client,
    registry_with_matching,
    resident,
)
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

PROVIDER_ORG = "org-company-cement"


async def _attempt(
    client: httpx.AsyncClient, headers: dict[str, str], rid: str, serial: int, village: str
) -> dict[str, int]:
    """The status of every registry action on resident ``rid`` (and of registering a new
    resident in ``village``)."""
    url = f"/v1/residents/{rid}"
    statuses: dict[str, int] = {}
    statuses["list"] = (await client.get("/v1/residents", headers=headers)).status_code
    got = await client.get(url, headers=headers)
    statuses["read"] = got.status_code
    statuses["register"] = (
        await client.post(
            "/v1/residents", json=resident(serial, village_code=village), headers=headers
        )
    ).status_code
    version = got.json()["version"] if got.status_code == 200 else 1
    statuses["edit"] = (
        await client.patch(
            url,
            json={"education_level": "primary"},
            headers={**headers, "If-Match": f'"{version}"'},
        )
    ).status_code
    statuses["verify"] = (await client.post(f"{url}/verify", headers=headers)).status_code
    statuses["priority"] = (
        await client.put(f"{url}/priority", json={"rank": serial}, headers=headers)
    ).status_code
    statuses["follow_up"] = (
        await client.post(
            f"{url}/follow-ups",
            json={
                "visited_on": f"2026-01-{serial % 28 + 1:02d}",
                "employment_status": "employed",
                "monthly_income_idr": 1,
                "household_size": 1,
            },
            headers=headers,
        )
    ).status_code
    statuses["household"] = (
        await client.get("/v1/households/6302061204910099", headers=headers)
    ).status_code
    statuses["audit"] = (await client.get("/v1/audit", headers=headers)).status_code
    return statuses


FULL = {
    "list": 200,
    "read": 200,
    "register": 201,
    "edit": 200,
    "verify": 200,
    "priority": 200,
    "follow_up": 201,
    "household": 200,
}
FOREIGN = {
    "list": 200,
    "read": 404,
    "register": 422,
    "edit": 404,
    "verify": 404,
    "priority": 404,
    "follow_up": 404,
    "household": 404,
}
NOTHING = {
    "list": 403,
    "read": 403,
    "register": 403,
    "edit": 403,
    "verify": 403,
    "priority": 403,
    "follow_up": 403,
    "household": 403,
}
PROVIDER_UNDISCLOSED = {**NOTHING, "read": 404, "follow_up": 404}
# The matrix's visit names no placement (and predates the placement): a provider's visit is
# bound to its own placement, cell by cell in test_follow_ups_access.py.
PROVIDER_DISCLOSED = {**NOTHING, "read": 200, "follow_up": 422}

CELLS: list[tuple[str, dict[str, Any], str, dict[str, int]]] = [
    # (organisation type, token claims, where the resident lives, expected statuses)
    ("admin", {}, "own", {**FULL, "audit": 200}),
    ("government_agency", {}, "own", {**FULL, "audit": 403}),
    ("village_government", {"region": TARJUN}, "own", {**FULL, "audit": 403}),
    ("village_government", {"region": MEGASARI}, "foreign", {**FOREIGN, "audit": 403}),
    ("district_government", {"region": KELUMPANG_HILIR}, "own", {**FULL, "audit": 403}),
    ("district_government", {"region": PULAU_LAUT_UTARA}, "foreign", {**FOREIGN, "audit": 403}),
    ("company", {"org_id": PROVIDER_ORG}, "disclosed", {**PROVIDER_DISCLOSED, "audit": 403}),
    (
        "company",
        {"org_id": "org-company-other"},
        "undisclosed",
        {**PROVIDER_UNDISCLOSED, "audit": 403},
    ),
    ("university", {}, "undisclosed", {**PROVIDER_UNDISCLOSED, "audit": 403}),
    ("school", {}, "undisclosed", {**PROVIDER_UNDISCLOSED, "audit": 403}),
    ("bumdes", {}, "undisclosed", {**PROVIDER_UNDISCLOSED, "audit": 403}),
    ("ngo", {}, "undisclosed", {**PROVIDER_UNDISCLOSED, "audit": 403}),
    ("regional_agency", {}, "any", {**NOTHING, "audit": 403}),
    ("service", {}, "any", {**NOTHING, "audit": 403}),
]


@pytest.mark.anyio
async def test_access_matrix(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    service = keys.headers("service")
    async with registry_with_matching(keys, backend, databases) as (client, matching):
        target = await register(client, agency, resident(1, family_card_number="6302061204910099"))
        rid = target["id"]
        disclosure = {
            "org_id": PROVIDER_ORG,
            "purpose": "placement",
            "placement_id": matching.placement(rid, PROVIDER_ORG),
            "valid_until": "2099-12-31",
        }
        assert (
            await client.post(f"/v1/residents/{rid}/disclosures", json=disclosure, headers=agency)
        ).status_code == 403
        first = await client.post(
            f"/v1/residents/{rid}/disclosures", json=disclosure, headers=service
        )
        assert first.status_code == 201
        again = await client.post(
            f"/v1/residents/{rid}/disclosures", json=disclosure, headers=service
        )
        assert again.status_code == 200 and again.json() == first.json()
        assert (
            await client.post("/v1/residents/nope/disclosures", json=disclosure, headers=service)
        ).status_code == 404

        failures = []
        for serial, (org_type, claims, where, expected) in enumerate(CELLS, start=10):
            headers = keys.headers(org_type, **claims)
            got = await _attempt(client, headers, rid, serial, TARJUN)
            if got != expected:
                failures.append(
                    (
                        org_type,
                        where,
                        {k: (v, expected[k]) for k, v in got.items() if v != expected[k]},
                    )
                )
        assert failures == []

        # Local governments list their region only.
        foreign = keys.headers("village_government", region=MEGASARI)
        assert (await client.get("/v1/residents", headers=foreign)).json()["items"] == []
        assert (
            await client.get(f"/v1/residents/{rid}/history", headers=foreign)
        ).status_code == 404


@pytest.mark.anyio
async def test_every_disclosure_is_audited(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency", org_id="org-dinsos")
    admin = keys.headers("admin")
    provider = keys.headers("company", org_id=PROVIDER_ORG)
    service = keys.headers("service", org_id="org-matching")
    async with registry_with_matching(keys, backend, databases) as (client, matching):
        a = await register(client, agency, resident(1))
        b = await register(client, agency, resident(2))

        async def trail(**params: str) -> list[dict[str, Any]]:
            response = await client.get("/v1/audit", params=params, headers=admin)
            assert response.status_code == 200
            items: list[dict[str, Any]] = response.json()["items"]
            return items

        assert [r["action"] for r in await trail(resident_id=a["id"])] == ["resident.create"]
        await client.get(
            "/v1/residents", headers={**agency, "X-Purpose": "village verification round"}
        )
        listed = await trail(org_id="org-dinsos")
        assert sorted(r["resident_id"] for r in listed if r["action"] == "resident.list") == sorted(
            [a["id"], b["id"]]
        )
        assert {r["purpose"] for r in listed if r["action"] == "resident.list"} == {
            "village verification round"
        }

        # A provider sees nothing until the disclosure, and every read after it is recorded.
        assert (await client.get(f"/v1/residents/{a['id']}", headers=provider)).status_code == 404
        assert await trail(org_id=PROVIDER_ORG) == []
        disclosure = {
            "org_id": PROVIDER_ORG,
            "purpose": "placement",
            "placement_id": matching.placement(a["id"], PROVIDER_ORG),
            "valid_until": "2099-01-01",
        }
        await client.post(f"/v1/residents/{a['id']}/disclosures", json=disclosure, headers=service)
        granted = await trail(org_id="org-matching")
        assert [(r["action"], r["resident_id"]) for r in granted] == [("disclosure.grant", a["id"])]
        for _ in range(2):
            read = await client.get(f"/v1/residents/{a['id']}", headers=provider)
            assert read.status_code == 200 and read.json()["nik"] == a["nik"]
        reads = await trail(org_id=PROVIDER_ORG)
        assert [(r["action"], r["resident_id"], r["purpose"], r["org_type"]) for r in reads] == [
            ("resident.read", a["id"], "placement", "company")
        ] * 2
        assert all(r["subject"] and r["occurred_at"] for r in reads)
        # An expired disclosure opens nothing.
        expired = {
            **disclosure,
            "placement_id": matching.placement(b["id"], PROVIDER_ORG),
            "valid_until": "2020-01-01",
        }
        await client.post(f"/v1/residents/{b['id']}/disclosures", json=expired, headers=service)
        assert (await client.get(f"/v1/residents/{b['id']}", headers=provider)).status_code == 404
        # Paging the trail by organisation.
        page = (
            await client.get(
                "/v1/audit", params={"org_id": PROVIDER_ORG, "limit": 1}, headers=admin
            )
        ).json()
        assert len(page["items"]) == 1 and page["next_cursor"]


@pytest.mark.anyio
async def test_benchmark_reads_are_off_by_default_and_refused_in_production(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    from services.registry.settings import RegistrySettings
    from shared.kit.settings import ProductionSettingError

    url = databases.new(backend, "registry")
    agency = keys.headers("government_agency")
    async with registry_client(url, keys) as client:
        rid = (await register(client, agency, resident(1)))["id"]
        assert (await client.get(f"/bench/residents/{rid}")).status_code == 404
    async with registry_client(url, keys, bench_unauthenticated_reads=True) as client:
        read = await client.get(f"/bench/residents/{rid}")
        assert read.status_code == 200 and read.json()["id"] == rid
        trail = (
            await client.get("/v1/audit", params={"org_id": "bench"}, headers=keys.headers("admin"))
        ).json()
        assert [(r["resident_id"], r["action"]) for r in trail["items"]] == [(rid, "resident.read")]
    production = RegistrySettings(
        database_url="postgresql://x/y", environment="production", bench_unauthenticated_reads=True
    )
    with pytest.raises(ProductionSettingError, match="BENCH_UNAUTHENTICATED_READS"):
        production.check_production()
