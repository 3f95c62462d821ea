"""Item 2 of issue 13: registering a NIK held out of the caller's sight answers exactly as an
unknown NIK does (one resident, an import, a dry run); the collision waits in the agencies'
NIK review queue, where it is merged or rejected. Within the caller's region the 409 stays."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.registry.support import MEGASARI, TARJUN, feed, register, registry_client, resident
from tests.registry.test_imports import row, to_csv, upload
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

# What differs between any two registrations, whatever their NIK.
OWN_VALUES = {"id", "nik", "full_name", "registered_at", "updated_at"}


def _shape(response: httpx.Response) -> tuple[int, dict[str, Any], set[str]]:
    body = response.json()
    return (
        response.status_code,
        {k: v for k, v in body.items() if k not in OWN_VALUES},
        {h for h in response.headers if h in ("location", "etag")},
    )


async def _post(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return await client.post("/v1/residents", json=body, headers=headers)


def _job_report(job: dict[str, Any]) -> dict[str, Any]:
    return {k: job[k] for k in ("status", "created", "updated", "unchanged", "rejected")}


async def test_a_nik_registered_out_of_sight_answers_as_an_unknown_one(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency", org_id="org-dinsos")
    service = keys.headers("service")
    village = keys.headers("village_government", org_id="org-desa-tarjun", region=TARJUN)
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        # Residents of another village, which the village government cannot see.
        foreign = [
            await register(client, agency, resident(n, village_code=MEGASARI)) for n in (1, 2, 3)
        ]
        before = len(await feed(client, service, 3))

        # One resident: the taken NIK and an unknown NIK answer alike, to the header.
        fresh = await _post(client, village, resident(11))
        held = await _post(client, village, {**resident(11), "nik": foreign[0]["nik"]})
        assert held.status_code == 201, held.text
        assert "existing_resident_id" not in held.text
        assert _shape(held) == _shape(fresh)
        assert held.json()["nik"] == foreign[0]["nik"]
        # Sent twice, both are the caller's own registration: 409 naming the caller's own id.
        again_fresh = await _post(client, village, resident(11))
        again_held = await _post(client, village, {**resident(11), "nik": foreign[0]["nik"]})
        assert again_fresh.status_code == again_held.status_code == 409
        assert again_fresh.json()["existing_resident_id"] == fresh.json()["id"]
        assert again_held.json()["existing_resident_id"] == held.json()["id"]
        assert again_fresh.json()["detail"] == again_held.json()["detail"]
        # The caller reads, finds and edits its held registration as any other of its own.
        read = await client.get(f"/v1/residents/{held.json()['id']}", headers=village)
        assert read.status_code == 200 and read.json()["nik"] == foreign[0]["nik"]
        found = await client.get("/v1/residents", params={"q": foreign[0]["nik"]}, headers=village)
        assert [r["id"] for r in found.json()["items"]] == [held.json()["id"]]

        # An import and its dry run: a taken NIK counts as created, with no rejection.
        taken = {k: foreign[1][k] for k in ("nik", "sex", "birth_date", "full_name")}
        unknown = row(21)
        csv = to_csv([row(21, **taken), unknown])
        dry = await upload(client, village, csv, dry_run="true")
        assert _job_report(dry) == {
            "status": "done",
            "created": 2,
            "updated": 0,
            "unchanged": 0,
            "rejected": 0,
        }
        job = await upload(client, village, csv)
        assert _job_report(job) == {**_job_report(dry)}
        for done in (dry, job):
            rejected = await client.get(
                f"/v1/residents/imports/{done['id']}/rejections", headers=village
            )
            assert rejected.json()["items"] == []
        # The same file again: both rows are the caller's own now, neither is new.
        twice = await upload(client, village, csv)
        assert _job_report(twice) == {**_job_report(dry), "created": 0, "unchanged": 2}

        # Held registrations stay off the feed until an agency resolves them.
        changes = await feed(client, service, before + 2)
        assert len(changes) == before + 2  # the fresh POST and the fresh import row
        held_ids = {held.json()["id"]}

        # The agencies' queue: both collisions, each beside the resident holding the NIK.
        assert (
            await client.get("/v1/residents/duplicates/nik-reviews", headers=village)
        ).status_code == 403
        queue = (await client.get("/v1/residents/duplicates/nik-reviews", headers=agency)).json()
        pairs = {(r["registration"]["nik"], r["existing"]["id"]) for r in queue["items"]}
        assert pairs == {
            (foreign[0]["nik"], foreign[0]["id"]),
            (foreign[1]["nik"], foreign[1]["id"]),
        }
        by_existing = {r["existing"]["id"]: r for r in queue["items"]}
        assert by_existing[foreign[0]["id"]]["registration"]["id"] in held_ids

        merged = await client.post(
            f"/v1/residents/duplicates/nik-reviews/{by_existing[foreign[0]['id']]['id']}/resolve",
            json={"action": "merge"},
            headers=agency,
        )
        assert merged.status_code == 200, merged.text
        assert merged.json()["status"] == "archived"
        assert merged.json()["merged_into"] == foreign[0]["id"]
        # Nothing the village sent is lost: the held registration keeps its fields.
        assert merged.json()["full_name"] == resident(11)["full_name"]
        rejected_review = await client.post(
            f"/v1/residents/duplicates/nik-reviews/{by_existing[foreign[1]['id']]['id']}/resolve",
            json={"action": "reject"},
            headers=agency,
        )
        assert rejected_review.status_code == 200
        assert rejected_review.json()["status"] == "archived"
        assert rejected_review.json()["merged_into"] is None
        resolved_twice = await client.post(
            f"/v1/residents/duplicates/nik-reviews/{by_existing[foreign[1]['id']]['id']}/resolve",
            json={"action": "merge"},
            headers=agency,
        )
        assert resolved_twice.status_code == 409
        queue = (await client.get("/v1/residents/duplicates/nik-reviews", headers=agency)).json()
        assert queue["items"] == []


async def test_within_the_callers_region_a_taken_nik_is_still_409_with_its_id(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    village = keys.headers("village_government", region=TARJUN)
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        mine = await register(client, agency, resident(1))
        taken = await _post(client, village, {**resident(2), "nik": mine["nik"]})
        assert taken.status_code == 409
        assert taken.json()["existing_resident_id"] == mine["id"]
        # An agency sees every region: always the 409.
        foreign = await register(client, agency, resident(3, village_code=MEGASARI))
        again = await _post(client, agency, {**resident(4), "nik": foreign["nik"]})
        assert again.status_code == 409 and again.json()["existing_resident_id"] == foreign["id"]
        # An import within the region updates the resident it finds, as before.
        own = row(5, **{k: mine[k] for k in ("nik", "sex", "birth_date", "full_name")})
        job = await upload(client, village, to_csv([own]))
        assert job["updated"] == 1 and job["created"] == 0


def _edit_shape(response: httpx.Response) -> tuple[int, dict[str, Any], dict[str, str]]:
    """All of an edit's answer but what differs between any two residents (ids, names,
    times, request ids), headers included."""
    body = response.json()
    headers = {
        k: v for k, v in response.headers.items() if k not in ("x-request-id", "content-length")
    }
    return response.status_code, {k: v for k, v in body.items() if k not in OWN_VALUES}, headers


async def test_an_edit_to_a_nik_held_out_of_sight_answers_as_an_edit_to_a_free_one(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency", org_id="org-dinsos")
    village = keys.headers("village_government", org_id="org-desa-tarjun", region=TARJUN)
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        foreign = await register(client, agency, resident(1, village_code=MEGASARI))
        fresh_target = await register(client, village, resident(11))
        held_target = await register(client, village, resident(12))
        free_nik = resident(31)["nik"]

        def patch(rid: str, nik: str) -> Any:
            return client.patch(
                f"/v1/residents/{rid}",
                json={"nik": nik, "education_level": "primary"},
                headers={**village, "If-Match": '"1"'},
            )

        fresh = await patch(fresh_target["id"], free_nik)
        held = await patch(held_target["id"], foreign["nik"])
        assert fresh.status_code == 200, fresh.text
        assert "existing_resident_id" not in held.text
        assert _edit_shape(held) == _edit_shape(fresh)
        assert held.json()["nik"] == foreign["nik"] and held.headers["etag"] == '"2"'

        # Read, searched and registered again, the held edit looks applied too.
        read = await client.get(f"/v1/residents/{held_target['id']}", headers=village)
        assert read.json()["nik"] == foreign["nik"]
        for target, nik in ((fresh_target, free_nik), (held_target, foreign["nik"])):
            found = await client.get("/v1/residents", params={"q": nik}, headers=village)
            assert [r["id"] for r in found.json()["items"]] == [target["id"]]
            old = await client.get("/v1/residents", params={"q": target["nik"]}, headers=village)
            assert old.json()["items"] == []
            again = await _post(client, village, {**resident(40), "nik": nik})
            assert again.status_code == 409
            assert again.json()["existing_resident_id"] == target["id"]
        # The old NIKs are free to the village in both cases.
        for n, target in ((41, fresh_target), (42, held_target)):
            reused = await _post(client, village, {**resident(n), "nik": target["nik"]})
            assert reused.status_code == 201, reused.text

        # The agencies' queue holds the edit beside the resident holding the NIK; the holder
        # is untouched. Rejected, the resident keeps its own NIK.
        queue = (await client.get("/v1/residents/duplicates/nik-reviews", headers=agency)).json()
        pairs = {(r["registration"]["id"], r["existing"]["id"]) for r in queue["items"]}
        assert (held_target["id"], foreign["id"]) in pairs
        holder = (await client.get(f"/v1/residents/{foreign['id']}", headers=agency)).json()
        assert (holder["nik"], holder["version"]) == (foreign["nik"], 1)
        review = next(r for r in queue["items"] if r["registration"]["id"] == held_target["id"])
        rejected = await client.post(
            f"/v1/residents/duplicates/nik-reviews/{review['id']}/resolve",
            json={"action": "reject"},
            headers=agency,
        )
        assert rejected.status_code == 200, rejected.text
        assert (rejected.json()["nik"], rejected.json()["status"]) == (
            held_target["nik"],
            "registered",
        )
