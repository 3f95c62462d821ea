"""A cohort's baseline takes its decile from the resident's decile history, and "left the
targeted deciles" counts only a decile of a later register edition, or an edit after the
enrolment (issue 15, item 6; shared/programme/cohorts.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.registry.support import feed, registry_client
from tests.registry.test_cohorts import COHORT
from tests.registry.test_imports import row, to_csv
from tests.registry.test_imports_registers import finished, post_import
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio
JULY = {"source": "DTSEN", "edition": "2025-07"}
JANUARY = {"source": "DTSEN", "edition": "2026-01"}
OLD = {"source": "DTKS", "edition": "2024-01"}


async def imported(
    client: httpx.AsyncClient, headers: dict[str, str], rows: list[dict[str, Any]], **edition: str
) -> None:
    job = await finished(
        client, headers, await post_import(client, headers, to_csv(rows), **edition)
    )
    assert (job["status"], job["rejected"]) == ("done", 0), job


async def by_name(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    listed = (await client.get("/v1/residents?limit=20", headers=headers)).json()["items"]
    return {r["full_name"]: r for r in listed}


async def test_left_counts_a_later_edition_or_a_later_edit_never_the_same_edition(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        # July 2025's register: all five in the targeted deciles (1-4).
        deciles = {1: "2", 2: "3", 3: "4", 4: "1", 5: "2"}
        await imported(
            client, agency, [row(n, welfare_decile=d) for n, d in deciles.items()], **JULY
        )
        # Budi 5's January 2026 decile arrives before his enrolment is recorded: his baseline,
        # taken on 1 September 2025, is still July's.
        await imported(client, agency, [row(5, welfare_decile="5")], **JANUARY)
        assert (await client.post("/v1/cohorts", json=COHORT, headers=agency)).status_code == 201
        people = await by_name(client, agency)
        ids = [people[f"Budi {n}"]["id"] for n in range(1, 6)]
        enrolled = await client.post(
            "/v1/cohorts/KTB-2025/enrolments",
            json={"resident_ids": ids, "enrolled_on": "2025-09-01"},
            headers=agency,
        )
        assert enrolled.status_code == 200, enrolled.text

        baselines = {}
        for rid in ids:
            [item] = (await client.get(f"/v1/residents/{rid}/enrolments", headers=agency)).json()[
                "items"
            ]
            baseline = item["baseline"]
            baselines[rid] = (
                baseline["welfare_decile"],
                baseline["decile_source"],
                baseline["decile_edition"],
            )
        assert baselines == {
            ids[0]: (2, "DTSEN", "2025-07"),
            ids[1]: (3, "DTSEN", "2025-07"),
            ids[2]: (4, "DTSEN", "2025-07"),
            ids[3]: (1, "DTSEN", "2025-07"),
            ids[4]: (2, "DTSEN", "2025-07"),  # the decile in effect that day, not today's 5
        }
        cohort = (await client.get("/v1/cohorts/KTB-2025", headers=agency)).json()
        # Budi 5 already holds a later edition's decile above the targeted ones.
        assert cohort["counts"]["left_targeted_deciles"] == 1

        # Budi 1: January 2026's edition puts him in decile 6, above the targeted ones: left.
        await imported(client, agency, [row(1, welfare_decile="6")], **JANUARY)
        # Budi 2: July 2025's edition again, corrected to decile 7: the same edition as his
        # baseline, a correction rather than a later edition, so not left.
        await imported(client, agency, [row(2, welfare_decile="7")], **JULY)
        # Budi 3: a later edition, still targeted (decile 3); then an older edition above the
        # targeted ones, imported late: history only, and not counted.
        await imported(client, agency, [row(3, welfare_decile="3")], **JANUARY)
        await imported(client, agency, [row(3, welfare_decile="9")], **OLD)
        # Budi 4: an edit (no edition), made today, after his enrolment: left.
        budi = (await by_name(client, agency))["Budi 4"]
        edited = await client.patch(
            f"/v1/residents/{budi['id']}",
            json={"welfare_decile": 8},
            headers={**agency, "If-Match": f'"{budi["version"]}"'},
        )
        assert edited.status_code == 200, edited.text

        now = {
            r["full_name"]: r["welfare_decile"] for r in (await by_name(client, agency)).values()
        }
        assert now == {"Budi 1": 6, "Budi 2": 7, "Budi 3": 3, "Budi 4": 8, "Budi 5": 5}
        counts = (await client.get("/v1/cohorts/KTB-2025", headers=agency)).json()["counts"]
        assert counts["enrolled"] == 5
        assert counts["left_targeted_deciles"] == 3  # Budi 1, 4 and 5; not 2, not 3

        # Reporting hears the baseline's edition and the day each decile speaks from.
        changes = await feed(client, keys.headers("service"), expected=5 + 1 + 5 + 4 + 1)
        cohorts = {
            c["entity_id"]: c["payload"]["cohort"] for c in changes if c["event"] == "enrolled"
        }
        assert cohorts[ids[4]] == {
            "code": "KTB-2025",
            "baseline_on": "2025-09-01",
            "welfare_decile": 2,
            "decile_source": "DTSEN",
            "decile_edition": "2025-07",
            "decile_effective_on": "2025-07-01",
            "income_per_member_idr": None,
            "target_max_decile": 4,
        }
        created = {c["entity_id"]: c["payload"] for c in changes if c["event"] == "created"}
        assert {created[rid]["decile_effective_on"] for rid in ids} == {"2025-07-01"}
        latest = {c["entity_id"]: c["payload"] for c in changes}
        assert (latest[ids[0]]["decile_edition"], latest[ids[0]]["decile_effective_on"]) == (
            "2026-01",
            "2026-01-01",
        )
        assert latest[ids[3]]["decile_edition"] is None
        assert latest[ids[3]]["decile_effective_on"] is not None  # the edit's day
