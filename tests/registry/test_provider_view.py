"""Items 8 and 14 of issue 13: a provider with an accepted disclosure reads its own view of a
resident (NIK, name, contact and what the placement needs, nothing else, an OpenAPI schema of
its own), lists nothing, and its reads are audited with the disclosure's purpose while its
X-Purpose is kept apart as the stated purpose."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from services.registry.models import Disclosure
from shared.kit.database import Database
from tests.registry.support import register, registry_client, resident
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

# ResidentProviderView, as issue 13 item 8 and DESIGN.md's access table list it.
PROVIDER_FIELDS = {
    "id",
    "nik",
    "full_name",
    "phone",
    "address",
    "village_code",
    "district_code",
    "education_level",
    "skills",
    "version",
}
# What a provider must never read: the family card, the exact birth date and age, poverty
# and household figures, disability (health data) and the consent record.
WITHHELD = {
    "family_card_number",
    "birth_date",
    "age",
    "welfare_decile",
    "monthly_income_idr",
    "household_size",
    "disability",
    "consent",
    "in_target_group",
}
PROVIDER_TYPES = ("company", "university", "school", "bumdes", "ngo")


def full_resident(serial: int) -> dict[str, Any]:
    return resident(
        serial,
        family_card_number="6302170101900099",
        address="Jl. Pelabuhan 7, Tarjun",
        phone="0813-4455-6677",
        education_level="senior_secondary",
        skills=["welding-smaw"],
        monthly_income_idr=750_000,
        household_size=5,
        disability=["hearing"],
        consent={"given": True, "purpose": "programme"},
    )


def disclose(client: httpx.AsyncClient, resident_id: str, org_id: str, purpose: str) -> None:
    """The disclosure as matching records it when a placement is accepted. Written as the
    row itself: how matching proves the placement is not what these tests are about."""
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    with db.session() as session:
        session.add(
            Disclosure(
                id=f"d-{org_id}",
                resident_id=resident_id,
                org_id=org_id,
                purpose=purpose,
                placement_id=f"p-{org_id}",
                valid_until=date(2099, 1, 1),
                recorded_by="org-matching",
                created_at=datetime.now(UTC),
            )
        )


@pytest.mark.parametrize("org_type", PROVIDER_TYPES)
async def test_a_provider_reads_only_its_own_view(
    keys: TestKeys, backend: str, databases: DatabaseFactory, org_type: str
) -> None:
    agency = keys.headers("government_agency")
    org_id = f"org-{org_type}-1"
    provider = keys.headers(org_type, org_id=org_id)
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        mine = await register(client, agency, full_resident(1))
        full = (await client.get(f"/v1/residents/{mine['id']}", headers=agency)).json()
        assert set(full) >= WITHHELD  # the agency's view has them, so their absence is news
        before = await client.get(f"/v1/residents/{mine['id']}", headers=provider)
        assert before.status_code == 404
        disclose(client, mine["id"], org_id, "placement")

        read = await client.get(f"/v1/residents/{mine['id']}", headers=provider)
        assert read.status_code == 200, read.text
        view = read.json()
        assert set(view) == PROVIDER_FIELDS
        assert {k: view[k] for k in PROVIDER_FIELDS} == {k: full[k] for k in PROVIDER_FIELDS}
        assert view["phone"] == "+6281344556677" and view["nik"] == mine["nik"]
        # Not even as text somewhere else in the body.
        for value in ("6302170101900099", "1991-04-12", "750000", "hearing"):
            assert value not in read.text
        assert read.headers["etag"] == f'"{view["version"]}"'

        # Providers list no residents, disclosed or not.
        for url in ("/v1/residents", f"/v1/residents?q={mine['nik']}"):
            assert (await client.get(url, headers=provider)).status_code == 403


async def test_the_openapi_names_the_provider_view(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    assert set(schemas["ResidentProviderView"]["properties"]) == PROVIDER_FIELDS
    assert schemas["ResidentProviderView"].get("additionalProperties") is False
    ok = spec["paths"]["/v1/residents/{resident_id}"]["get"]["responses"]["200"]
    refs = {
        option.get("$ref")
        for option in ok["content"]["application/json"]["schema"].get("anyOf", [])
    }
    assert "#/components/schemas/ResidentProviderView" in refs


async def test_a_providers_read_is_audited_with_the_disclosures_purpose(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency", org_id="org-dinsos")
    admin = keys.headers("admin")
    provider = keys.headers("company", org_id="org-company-cement")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        mine = await register(client, agency, full_resident(1))
        disclose(client, mine["id"], "org-company-cement", "apprenticeship")
        for stated in ("checking her criminal record", None):
            headers = {**provider, "X-Purpose": stated} if stated else provider
            read = await client.get(f"/v1/residents/{mine['id']}", headers=headers)
            assert read.status_code == 200
        # An agency's X-Purpose is still its purpose: it is not a provider.
        await client.get(
            f"/v1/residents/{mine['id']}", headers={**agency, "X-Purpose": "village round"}
        )

        trail = (
            await client.get("/v1/audit", params={"resident_id": mine["id"]}, headers=admin)
        ).json()["items"]
        reads = [
            (r["org_id"], r["purpose"], r["stated_purpose"])
            for r in trail
            if r["action"] == "resident.read"
        ]
        assert reads == [
            ("org-company-cement", "apprenticeship", "checking her criminal record"),
            ("org-company-cement", "apprenticeship", None),
            ("org-dinsos", "village round", "village round"),
        ]
