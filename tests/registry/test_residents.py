"""Registering, reading, changing (If-Match), verifying, ranking, households, history,
follow-ups and independence, duplicates and erasure, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import anyio
import httpx
import pytest

from tests.registry.support import (
    MEGASARI,
    SERONGGA,
    TARJUN,
    employed,
    field_errors,
    register,
    registry_client,
    resident,
)
from tests.support.tokens import TestKeys


@pytest.mark.anyio
async def test_register_read_and_change_with_if_match(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        body = resident(
            1,
            phone="0812-3456-7890",
            skills=["cement-kiln-operation"],
            family_card_number="6302061204910099",
            consent={"given": True, "purpose": "programme"},
        )
        created = await register(client, agency, body)
        assert created["phone"] == "+6281234567890"
        assert created["district_code"] == "63.02.17" and created["regency_code"] == "63.02"
        assert created["productive_age"] and created["in_target_group"]
        assert created["status"] == "registered" and created["version"] == 1
        assert created["consent"]["given"] and created["consent"]["recorded_by"]
        rid = created["id"]

        again = await client.post("/v1/residents", json=body, headers=agency)
        assert again.status_code == 409
        assert again.json()["existing_resident_id"] == rid

        for extra in ({"status": "verified"}, {"version": 7}, {"source_org_id": "x"}):
            sneaky = await client.post("/v1/residents", json=resident(2, **extra), headers=agency)
            assert sneaky.status_code == 422
            assert list(field_errors(sneaky)) == list(extra)
        bad = await client.post(
            "/v1/residents",
            json=resident(3, village_code="63.02.17.9999", skills=["juggling"], phone="12"),
            headers=agency,
        )
        assert set(field_errors(bad)) == {"village_code", "skills", "phone"}

        got = await client.get(f"/v1/residents/{rid}", headers=agency)
        assert got.status_code == 200 and got.headers["etag"] == '"1"'

        url = f"/v1/residents/{rid}"
        change = {"welfare_decile": 6}
        assert (await client.patch(url, json=change, headers=agency)).status_code == 428
        stale = await client.patch(url, json=change, headers={**agency, "If-Match": '"0"'})
        assert stale.status_code == 412
        ok = await client.patch(url, json=change, headers={**agency, "If-Match": '"1"'})
        assert ok.status_code == 200, ok.text
        assert ok.json()["version"] == 2 and not ok.json()["in_target_group"]
        assert ok.headers["etag"] == '"2"'
        # The same ETag again is stale now: a lost update is refused.
        lost = await client.patch(
            url, json={"welfare_decile": 3}, headers={**agency, "If-Match": '"1"'}
        )
        assert lost.status_code == 412
        wrong_sex = await client.patch(
            url, json={"sex": "M"}, headers={**agency, "If-Match": '"2"'}
        )
        assert list(field_errors(wrong_sex)) == ["nik"]
        cleared = await client.patch(
            url, json={"full_name": None}, headers={**agency, "If-Match": '"2"'}
        )
        assert list(field_errors(cleared)) == ["full_name"]

        verified = await client.post(f"{url}/verify", headers=agency)
        assert verified.json()["status"] == "verified" and verified.json()["version"] == 3
        # Verifying twice changes nothing (a retry is harmless).
        assert (await client.post(f"{url}/verify", headers=agency)).json()["version"] == 3

        history = (await client.get(f"{url}/history", headers=agency)).json()["items"]
        assert [(h["version"], h["event"]) for h in history] == [
            (1, "created"),
            (2, "updated"),
            (3, "verified"),
        ]
        assert history[1]["fields"] == ["welfare_decile"]


@pytest.mark.anyio
async def test_priority_ranks_are_unique_per_village(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    village = keys.headers("village_government", region=TARJUN)
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        a = await register(client, village, resident(1))
        b = await register(client, village, resident(2))
        first = await client.put(
            f"/v1/residents/{a['id']}/priority", json={"rank": 1}, headers=village
        )
        assert first.status_code == 200 and first.json()["priority_rank"] == 1
        taken = await client.put(
            f"/v1/residents/{b['id']}/priority", json={"rank": 1}, headers=village
        )
        assert taken.status_code == 409 and taken.json()["holder_resident_id"] == a["id"]
        await client.put(f"/v1/residents/{a['id']}/priority", json={"rank": None}, headers=village)
        moved = await client.put(
            f"/v1/residents/{b['id']}/priority", json={"rank": 1}, headers=village
        )
        assert moved.json()["priority_rank"] == 1
        listed = await client.get("/v1/residents?has_priority=true", headers=village)
        assert [r["id"] for r in listed.json()["items"]] == [b["id"]]


@pytest.mark.anyio
async def test_list_filters_and_pages(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        ids = set()
        for serial in range(1, 6):
            ids.add((await register(client, agency, resident(serial)))["id"])
        old = await register(
            client, agency, resident(6, born=date(1950, 1, 5), sex="M", village_code=MEGASARI)
        )
        rich = await register(client, agency, resident(7, welfare_decile=9, village_code=SERONGGA))
        seen, cursor = [], None
        while True:
            params: dict[str, str | int] = {
                "limit": 2,
                "district_code": "63.02.17",
                "in_target_group": "true",
            }
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/residents", params=params, headers=agency)).json()
            seen += [r["id"] for r in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert set(seen) == ids and len(seen) == 5
        outside = await client.get("/v1/residents?in_target_group=false", headers=agency)
        assert {r["id"] for r in outside.json()["items"]} == {old["id"], rich["id"]}
        by_name = await client.get("/v1/residents", params={"q": "siti rahmah 7"}, headers=agency)
        assert [r["id"] for r in by_name.json()["items"]] == [rich["id"]]
        by_nik = await client.get("/v1/residents", params={"q": old["nik"][:12]}, headers=agency)
        assert [r["id"] for r in by_nik.json()["items"]] == [old["id"]]
        poorest = await client.get("/v1/residents?max_decile=3", headers=agency)
        assert len(poorest.json()["items"]) == 6
        bad = await client.get("/v1/residents?cursor=garbage", headers=agency)
        assert bad.status_code == 422


@pytest.mark.anyio
async def test_household_follow_ups_independence_and_erasure(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    admin = keys.headers("admin")
    card = "6302061204910099"
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        mother = await register(
            client,
            agency,
            resident(1, family_card_number=card, monthly_income_idr=900_000, household_size=3),
        )
        await register(
            client,
            agency,
            resident(2, born=date(2005, 6, 1), family_card_number=card, monthly_income_idr=300_000),
        )
        household = (await client.get(f"/v1/households/{card}", headers=agency)).json()
        assert len(household["members"]) == 2 and household["household_size"] == 3
        # The household's income as its latest registration gave it, never a sum of members.
        assert household["monthly_income_idr"] == 300_000
        assert household["income_per_member_idr"] == 100_000
        assert (
            await client.get("/v1/households/6302060000000000", headers=agency)
        ).status_code == 404

        url = f"/v1/residents/{mother['id']}/follow-ups"
        visit = employed(3_000_000, 3)
        first = await client.post(url, json={**visit, "visited_on": "2026-01-10"}, headers=agency)
        assert first.status_code == 201 and first.json()["income_per_member_idr"] == 1_000_000
        retry = await client.post(url, json={**visit, "visited_on": "2026-01-10"}, headers=agency)
        assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
        too_soon = await client.post(
            url, json={**visit, "visited_on": "2026-03-01"}, headers=agency
        )
        assert too_soon.json()["resident_status"] == "registered"
        # Graduation asks for one visit whose income is more than the resident's word.
        later = await client.post(
            url,
            json={**visit, "visited_on": "2026-04-15", "income_source": "payslip"},
            headers=agency,
        )
        assert later.json()["resident_status"] == "independent"
        poorer = {**visit, "monthly_income_idr": 900_000, "visited_on": "2026-07-01"}
        reverted = await client.post(url, json=poorer, headers=agency)
        assert reverted.json()["resident_status"] == "registered"
        assert (
            await client.post(url, json={**visit, "visited_on": "x"}, headers=agency)
        ).status_code == 422

        assert (
            await client.post(f"/v1/residents/{mother['id']}/erase", headers=agency)
        ).status_code == 403
        erased = await client.post(f"/v1/residents/{mother['id']}/erase", headers=admin)
        assert erased.status_code == 200
        data = erased.json()
        assert data["nik"] is None and data["full_name"] is None and data["birth_date"] is None
        assert data["status"] == "archived" and data["welfare_decile"] == 2 and data["age"] >= 34
        assert (
            len((await client.get(f"/v1/households/{card}", headers=agency)).json()["members"]) == 1
        )
        audit = (await client.get(f"/v1/audit?resident_id={mother['id']}", headers=admin)).json()
        assert "resident.erase" in [a["action"] for a in audit["items"]]


@pytest.mark.anyio
async def test_possible_duplicates_are_listed_then_merged_or_dismissed(
    registry: httpx.AsyncClient, keys: TestKeys
) -> None:
    agency = keys.headers("government_agency")
    a = await register(registry, agency, resident(1, full_name="Siti  Rahmah"))
    b = await register(
        registry, agency, resident(2, full_name="siti rahmah", village_code=MEGASARI)
    )
    c = await register(registry, agency, resident(3, full_name="Ahmad Fauzi", sex="M"))
    d = await register(registry, agency, resident(4, full_name="Ahmad Fauzi", sex="M"))
    await register(registry, agency, resident(5, full_name="Someone Else"))
    groups = (await registry.get("/v1/residents/duplicates", headers=agency)).json()["items"]
    assert sorted(sorted(r["id"] for r in g["residents"]) for g in groups) == sorted(
        [sorted([a["id"], b["id"]]), sorted([c["id"], d["id"]])]
    )
    dismissed = await registry.post(
        "/v1/residents/duplicates/resolve",
        json={"action": "dismiss", "resident_ids": [a["id"], b["id"]]},
        headers=agency,
    )
    assert dismissed.status_code == 200
    merged = await registry.post(
        "/v1/residents/duplicates/resolve",
        json={"action": "merge", "resident_ids": [c["id"], d["id"]], "keep": c["id"]},
        headers=agency,
    )
    assert {r["id"]: r["merged_into"] for r in merged.json()} == {
        c["id"]: None,
        d["id"]: c["id"],
    }
    assert (await registry.get("/v1/residents/duplicates", headers=agency)).json()["items"] == []
    bad = await registry.post(
        "/v1/residents/duplicates/resolve",
        json={"action": "merge", "resident_ids": [a["id"], b["id"]]},
        headers=agency,
    )
    assert bad.status_code == 422


@pytest.mark.anyio
async def test_regions_reference_list(keys, databases) -> None:  # type: ignore[no-untyped-def]
    async with registry_client(databases.new("sqlite", "registry"), keys) as client:
        villages = (await client.get("/v1/regions?parent=63.02.17")).json()
        assert (
            len(villages) == 9
            and {"code": TARJUN, "name": "Tarjun", "level": "village", "parent_code": "63.02.17"}
            in villages
        )
        assert (await client.get("/v1/regions?parent=63.99")).status_code == 404
        assert (await client.get("/v1/regions?parent=x")).status_code == 422


@pytest.mark.anyio
async def test_audited_reads_beside_writes_never_fail(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    # Reads of personal data write their audit record; on SQLite a read that turns into a
    # write must wait its turn instead of failing with "database is locked".
    agency = keys.headers("government_agency")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        ids = [(await register(client, agency, resident(i)))["id"] for i in range(1, 11)]
        statuses: list[int] = []

        async def read() -> None:
            statuses.append((await client.get("/v1/residents", headers=agency)).status_code)

        async def verify(resident_id: str) -> None:
            response = await client.post(f"/v1/residents/{resident_id}/verify", headers=agency)
            statuses.append(response.status_code)

        async with anyio.create_task_group() as group:
            for resident_id in ids:
                group.start_soon(read)
                group.start_soon(verify, resident_id)
                group.start_soon(read)
        assert statuses.count(200) == 30


@pytest.mark.anyio
async def test_consent_time_keeps_its_instant(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        consent = {"given": True, "purpose": "placement", "at": "2025-08-01T09:00:00+08:00"}
        created = await register(client, agency, resident(1, consent=consent))
        read = (await client.get(f"/v1/residents/{created['id']}", headers=agency)).json()
        assert read["consent"]["at"].replace("Z", "+00:00") == "2025-08-01T01:00:00+00:00"
