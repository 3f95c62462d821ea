"""A consumer of the registry's change feed sees every change exactly once, across a crash,
and no change carries personal data."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.kit.feed import Change, FeedConsumer, HttpFeedSource
from tests.registry.support import MEGASARI, feed, make_nik, register, registry_client, resident
from tests.support.feeds import applying_consumer

CONTRACT_KEYS = {
    "id",
    "version",
    "village_code",
    "district_code",
    "regency_code",
    "birth_month",
    "age",
    "sex",
    "education_level",
    "skills",
    "employment_status",
    "welfare_decile",
    "decile_source",
    "decile_edition",
    "decile_effective_on",
    "household_size",
    "disability",
    "productive_age",
    "in_target_group",
    "status",
    "priority_rank",
    "registered_at",
    "verified_at",
    "independent_at",
    "follow_up",
    "cohort",
    "graduation",
    "consent",
}


@pytest.mark.anyio
async def test_consumer_sees_every_change_exactly_once(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    admin = keys.headers("admin")
    service = keys.headers("service")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        a = await register(
            client, agency, resident(1, phone="081234567890", address="Jl. Tarjun 1")
        )
        b = await register(client, agency, resident(2, full_name="Siti Rahmah 1"))
        url = f"/v1/residents/{a['id']}"
        await client.patch(
            url, json={"education_level": "primary"}, headers={**agency, "If-Match": '"1"'}
        )
        await client.post(f"{url}/verify", headers=agency)
        await client.put(f"{url}/priority", json={"rank": 1}, headers=agency)
        visit = {
            "employment_status": "employed",
            "monthly_income_idr": 4_000_000,
            "household_size": 2,
        }
        for day, source in (("2026-01-01", "self_report"), ("2026-05-01", "payslip")):
            await client.post(
                f"{url}/follow-ups",
                json={**visit, "visited_on": day, "income_source": source},
                headers=agency,
            )
        await client.post(
            f"{url}/follow-ups",
            json={**visit, "monthly_income_idr": 0, "visited_on": "2026-06-01"},
            headers=agency,
        )
        await client.post(
            "/v1/residents/duplicates/resolve",
            json={"action": "merge", "resident_ids": [a["id"], b["id"]], "keep": a["id"]},
            headers=agency,
        )
        csv = (
            b"nik,full_name,sex,birth_date,village_code\n"
            + (f"{make_nik(date(1988, 2, 3), 'M')},Budi,M,1988-02-03,{MEGASARI}\n").encode()
        )
        await client.post("/v1/residents/import", files={"file": ("a.csv", csv)}, headers=agency)
        await client.post(f"{url}/erase", headers=admin)

        events = [
            (c["entity_id"], c["version"], c["event"])
            for c in await feed(client, service, expected=14)
        ]
        assert [e for i, _, e in events if i == a["id"]] == [
            "created",
            "updated",
            "verified",
            "priority",
            "follow_up",
            "follow_up",
            "graduated",
            "follow_up",
            "graduation_revoked",
            "erased",
        ]
        # B was merged into A, one person: erasing A erases B too (issue 13 item 6).
        assert [e for i, _, e in events if i == b["id"]] == ["created", "merged", "erased"]
        assert len(events) == 14

        changes = await feed(client, service, expected=14)
        text = json.dumps([c["payload"] for c in changes])
        for secret in (
            a["nik"],
            a["full_name"],
            "81234567890",
            "Jl. Tarjun",
            a["birth_date"],
            b["nik"],
        ):
            assert secret not in text
        for change in changes:
            assert set(change["payload"]) - {"merged_into"} == CONTRACT_KEYS
        erased = changes[[c["event"] for c in changes].index("erased")]["payload"]
        assert (
            erased["village_code"],
            erased["sex"],
            erased["welfare_decile"],
            erased["status"],
        ) == (
            a["village_code"],
            "F",
            2,
            "archived",
        )
        follow_up = next(c["payload"]["follow_up"] for c in changes if c["event"] == "follow_up")
        assert (
            follow_up["income_per_member_idr"] == 2_000_000
            and follow_up["visited_on"] == "2026-01-01"
        )

        # The consumer: applies in batches of 3, crashes in its third batch, restarts.
        consumer_db, tables, applied = applying_consumer(
            databases.new(backend, "registryfeed", migrated=False)
        )
        batches = {"left": 2}

        def apply(session: Session, batch: list[Change]) -> None:
            for change in batch:
                session.execute(
                    applied.insert().values(
                        entity_id=change.entity_id, version=change.version, event=change.event
                    )
                )
            if batches["left"] == 0:
                raise RuntimeError("consumer killed mid-batch")
            batches["left"] -= 1

        feed_client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=client.app),  # type: ignore[attr-defined]
            base_url="http://registry",
            headers=service,
        )
        async with feed_client:
            consumer = FeedConsumer(
                "registry", consumer_db, tables, HttpFeedSource(feed_client), apply, batch_size=3
            )
            with pytest.raises(RuntimeError):
                await consumer.catch_up()
            batches["left"] = 1_000
            restarted = FeedConsumer(
                "registry", consumer_db, tables, HttpFeedSource(feed_client), apply, batch_size=3
            )
            assert await restarted.catch_up() == 8
            assert await restarted.catch_up() == 0
        with consumer_db.session(write=False) as session:
            seen = [
                tuple(row)
                for row in session.execute(
                    select(applied.c.entity_id, applied.c.version, applied.c.event).order_by(
                        applied.c.n
                    )
                )
            ]
        assert seen == events
        consumer_db.dispose()
