"""``PUT/GET /v1/villages/{village_code}/priority-list``: a village's whole list in one
transaction, all or nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from tests.registry.support import SERONGGA, TARJUN, register, resident
from tests.support.problems import error_fields
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

MEETING = {"held_on": "2025-08-14", "minutes_number": "BA-07/TRJ/2025", "minutes_sha256": "a" * 64}


def url(village: str = TARJUN) -> str:
    return f"/v1/villages/{village}/priority-list"


async def test_a_list_ranks_in_order_and_unlisted_residents_lose_their_rank(
    registry: httpx.AsyncClient, keys: TestKeys
) -> None:
    agency = keys.headers("government_agency")
    ids = [(await register(registry, agency, resident(n)))["id"] for n in range(1, 6)]
    # Ranked one by one before the meeting: the list replaces these.
    for rank, rid in enumerate(ids[:3], start=1):
        answer = await registry.put(
            f"/v1/residents/{rid}/priority", json={"rank": rank}, headers=agency
        )
        assert answer.status_code == 200, answer.text
    order = [ids[4], ids[0], ids[3]]
    answer = await registry.put(
        url(), json={"resident_ids": order, "meeting": MEETING}, headers=agency
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["items"] == [{"resident_id": rid, "rank": n} for n, rid in enumerate(order, 1)]
    assert body["meeting"]["minutes_number"] == "BA-07/TRJ/2025"
    ranks = {}
    for rid in ids:
        ranks[rid] = (await registry.get(f"/v1/residents/{rid}", headers=agency)).json()[
            "priority_rank"
        ]
    assert ranks == {ids[4]: 1, ids[0]: 2, ids[3]: 3, ids[1]: None, ids[2]: None}

    again = await registry.get(url(), headers=agency)
    assert again.status_code == 200 and again.json() == body
    # The same list again changes no resident (no new version).
    before = (await registry.get(f"/v1/residents/{ids[0]}", headers=agency)).json()["version"]
    await registry.put(url(), json={"resident_ids": order, "meeting": MEETING}, headers=agency)
    after = (await registry.get(f"/v1/residents/{ids[0]}", headers=agency)).json()["version"]
    assert after == before


async def test_one_resident_of_another_village_changes_nothing_and_is_named(
    registry: httpx.AsyncClient, keys: TestKeys
) -> None:
    agency = keys.headers("government_agency")
    ids = [(await register(registry, agency, resident(n)))["id"] for n in range(1, 4)]
    outsider = (await register(registry, agency, resident(9, village_code=SERONGGA)))["id"]
    first = await registry.put(
        url(), json={"resident_ids": ids, "meeting": MEETING}, headers=agency
    )
    assert first.status_code == 200, first.text

    answer = await registry.put(
        url(),
        json={"resident_ids": [ids[2], ids[1], outsider, ids[0]], "meeting": MEETING},
        headers=agency,
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert error_fields(answer) == {"resident_ids.2"}
    assert (await registry.get(url(), headers=agency)).json() == first.json()

    twice = await registry.put(
        url(), json={"resident_ids": [ids[0], ids[0]], "meeting": MEETING}, headers=agency
    )
    assert twice.status_code == 422 and error_fields(twice) == {"resident_ids.1"}
    unknown = await registry.put(
        url(), json={"resident_ids": ["no-such-id"], "meeting": MEETING}, headers=agency
    )
    assert unknown.status_code == 422 and error_fields(unknown) == {"resident_ids.0"}
    bad_hash = await registry.put(
        url(),
        json={"resident_ids": ids, "meeting": {**MEETING, "minutes_sha256": "xyz"}},
        headers=agency,
    )
    assert bad_hash.status_code == 422 and error_fields(bad_hash) == {"meeting.minutes_sha256"}
    assert (await registry.get(url(), headers=agency)).json() == first.json()


async def test_a_village_government_sets_only_its_own_village(
    registry: httpx.AsyncClient, keys: TestKeys
) -> None:
    agency = keys.headers("government_agency")
    tarjun = keys.headers("village_government", region=TARJUN)
    rid = (await register(registry, agency, resident(1)))["id"]
    other = (await register(registry, agency, resident(2, village_code=SERONGGA)))["id"]
    own = await registry.put(
        url(), json={"resident_ids": [rid], "meeting": MEETING}, headers=tarjun
    )
    assert own.status_code == 200, own.text
    foreign = await registry.put(
        url(SERONGGA), json={"resident_ids": [other], "meeting": MEETING}, headers=tarjun
    )
    assert foreign.status_code == 404
    provider = keys.headers("company")
    assert (await registry.get(url(), headers=provider)).status_code == 403
    empty = await registry.put(url(), json={"resident_ids": [], "meeting": MEETING}, headers=tarjun)
    assert empty.status_code == 200 and empty.json()["items"] == []
