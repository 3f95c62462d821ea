"""Register extracts as agencies hold them (DTSEN headers, L/P, DD-MM-YYYY, undotted village
codes, extra columns) and a column mapping for any other layout, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from services.registry.imports import bulk, columns, layouts
from services.registry.imports.service import Validator, run_job
from services.registry.models import (
    ImportRejection,
    Resident,
    ResidentChange,
    ResidentDecile,
    feed_tables,
)
from shared.kit.database import table_of
from shared.kit.tokens import Principal
from tests.registry.support import (
    MEGASARI,
    TARJUN,
    feed,
    field_errors,
    make_nik,
    register,
    registry_client,
    resident,
)
from tests.registry.test_imports import COLUMNS, queued_job, row, to_csv
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

SAMPLES = Path(__file__).parents[2] / "services" / "registry" / "samples"


async def post_import(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes,
    name: str = "list.csv",
    **form: str,
) -> httpx.Response:
    return await client.post(
        "/v1/residents/import", files={"file": (name, content)}, data=form, headers=headers
    )


async def finished(
    client: httpx.AsyncClient, headers: dict[str, str], response: httpx.Response
) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    job: dict[str, Any] = (await client.get(response.headers["location"], headers=headers)).json()
    return job


@pytest.mark.parametrize("sample", ["dtsen_extract.csv", "dtsen_extract.xlsx"])
async def test_a_dtsen_extract_imports_every_row_and_lists_the_columns_it_ignores(
    keys: TestKeys, backend: str, databases: DatabaseFactory, sample: str
) -> None:
    agency = keys.headers("government_agency")
    content = (SAMPLES / sample).read_bytes()
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        job = await finished(client, agency, await post_import(client, agency, content, sample))
        assert (job["status"], job["created"], job["rejected"]) == ("done", 6, 0), job
        assert job["warnings"] == [
            "column(s) not used and ignored: ID_KELUARGA_DTSEN, STATUS_DTSEN"
        ]
        listed = (await client.get("/v1/residents?limit=10", headers=agency)).json()["items"]
        by_name = {r["full_name"]: r for r in listed}
        assert len(by_name) == 6
        ahmad, siti, rudi = by_name["Ahmad Fauzi"], by_name["Siti Aminah"], by_name["Rudi Hartono"]
        assert (ahmad["sex"], ahmad["birth_date"], ahmad["village_code"]) == (
            "M",
            "1996-03-14",
            TARJUN,
        )
        assert (siti["sex"], siti["birth_date"]) == ("F", "1999-11-02")  # P, DD/MM/YYYY
        assert (ahmad["employment_status"], ahmad["education_level"]) == (
            "unemployed",
            "senior_secondary",
        )
        assert (rudi["sex"], rudi["employment_status"], rudi["household_size"]) == (
            "M",
            "informal",
            6,
        )
        assert (rudi["welfare_decile"], rudi["district_code"]) == (1, "63.02.17")
        assert by_name["Dewi Lestari"]["education_level"] == "bachelor"
        assert ahmad["family_card_number"] == "6302179601010001"


async def test_a_mapping_serves_another_layout_and_a_bad_one_names_the_field(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    values = row(1)
    header = ["ID ART", "Nama ART", "Kelamin", "Lahir", "Wilayah", "Catatan"]
    content = to_csv(
        [
            {
                "ID ART": values["nik"],
                "Nama ART": "Budi Santoso",
                "Kelamin": "L",
                "Lahir": "02-01-1990",
                "Wilayah": TARJUN.replace(".", ""),
                "Catatan": "pindahan",
            },
            {
                "ID ART": make_nik(date(1990, 1, 3), "M", serial="0002"),
                "Nama ART": "Joko",
                "Kelamin": "X",
                "Lahir": "03-01-1990",
                "Wilayah": TARJUN,
                "Catatan": "",
            },
        ],
        header,
    )
    mapping = (
        '{"id art": "nik", "NAMA ART": "full_name", "Kelamin": "sex", "Lahir": "birth_date",'
        ' "Wilayah": "village_code"}'
    )
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        job = await finished(
            client, agency, await post_import(client, agency, content, mapping=mapping)
        )
        assert job["status"] == "done", job
        assert (job["created"], job["rejected"]) == (1, 1), job
        # A value that is none of the known spellings is rejected as it always was.
        assert [(r["row"], r["column"]) for r in job["rejections"]] == [(3, "sex")]
        [budi] = (await client.get("/v1/residents", headers=agency)).json()["items"]
        assert (budi["full_name"], budi["sex"], budi["village_code"]) == (
            "Budi Santoso",
            "M",
            TARJUN,
        )
        assert job["warnings"] == ["column(s) not used and ignored: Catatan"]

        for bad, message in (
            ("[1, 2]", "JSON object"),
            ('{"ID ART": "nikk"}', "unknown field(s) nikk"),
            ("{not json", "JSON object"),
        ):
            refused = await post_import(client, agency, content, mapping=bad)
            assert refused.status_code == 422, refused.text
            assert message in field_errors(refused)["mapping"]
        # A mapping that names a column the file lacks fails the job, naming it.
        absent = await finished(
            client,
            agency,
            await post_import(
                client, agency, content, mapping='{"NIK_KEPALA": "nik", "Nama ART": "full_name"}'
            ),
        )
        assert absent["status"] == "failed" and "nik_kepala" in absent["error"]


async def deciles(
    client: httpx.AsyncClient, headers: dict[str, str], resident_id: str
) -> list[tuple[int, str | None, str | None, str]]:
    response = await client.get(f"/v1/residents/{resident_id}/deciles", headers=headers)
    assert response.status_code == 200, response.text
    return [
        (d["welfare_decile"], d["source"], d["edition"], d["effective_on"])
        for d in response.json()["items"]
    ]


async def test_two_editions_in_either_order_leave_the_newer_decile_current_and_both_in_history(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    newer = {"source": "DTSEN", "edition": "2025-07"}
    older = {"source": "DTSEN", "edition": "2024-01"}
    first = [row(1, welfare_decile="3"), row(2, welfare_decile="4")]  # newer edition first
    second = [row(3, welfare_decile="2"), row(4, welfare_decile="6")]  # older edition first
    async with registry_client(
        databases.new(backend, "registry"), keys, import_chunk_size=1
    ) as client:
        for content, edition in (
            (to_csv(first), newer),
            (to_csv([dict(r, welfare_decile="8") for r in first]), older),
            (to_csv([dict(r, welfare_decile="8") for r in first]), older),  # twice: no echo
            (to_csv([dict(r, welfare_decile="9") for r in second]), older),
            (to_csv(second), newer),
        ):
            job = await finished(
                client, agency, await post_import(client, agency, content, **edition)
            )
            assert (job["status"], job["rejected"]) == ("done", 0), job
            assert (job["source"], job["edition"]) == (edition["source"], edition["edition"])
        listed = (await client.get("/v1/residents?limit=10", headers=agency)).json()["items"]
        by_name = {r["full_name"]: r for r in listed}
        assert {name: r["welfare_decile"] for name, r in by_name.items()} == {
            "Budi 1": 3,
            "Budi 2": 4,
            "Budi 3": 2,
            "Budi 4": 6,
        }
        assert await deciles(client, agency, by_name["Budi 1"]["id"]) == [
            (3, "DTSEN", "2025-07", "2025-07-01"),
            (8, "DTSEN", "2024-01", "2024-01-01"),
        ]
        assert await deciles(client, agency, by_name["Budi 4"]["id"]) == [
            (9, "DTSEN", "2024-01", "2024-01-01"),
            (6, "DTSEN", "2025-07", "2025-07-01"),
        ]
        # The feed carries the edition of each resident's current decile.
        changes = await feed(client, keys.headers("service"), expected=6)
        latest = {c["entity_id"]: c["payload"] for c in changes}
        assert {
            (p["welfare_decile"], p["decile_source"], p["decile_edition"]) for p in latest.values()
        } == {
            (3, "DTSEN", "2025-07"),
            (4, "DTSEN", "2025-07"),
            (2, "DTSEN", "2025-07"),
            (6, "DTSEN", "2025-07"),
        }

        # An edit is a decile of its own, effective from the day it is made.
        budi = by_name["Budi 1"]
        edited = await client.patch(
            f"/v1/residents/{budi['id']}",
            json={"welfare_decile": 1},
            headers={**agency, "If-Match": f'"{budi["version"]}"'},
        )
        assert edited.status_code == 200, edited.text
        history = await deciles(client, agency, budi["id"])
        assert history[-1][:3] == (1, None, None) and len(history) == 3


async def test_a_decile_history_is_read_as_the_resident_is(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        job = await finished(
            client,
            agency,
            await post_import(client, agency, to_csv([row(1)]), source="DTSEN", edition="2025-07"),
        )
        [budi] = (await client.get("/v1/residents", headers=agency)).json()["items"]
        assert job["created"] == 1
        read = await client.get(
            f"/v1/residents/{budi['id']}/deciles",
            headers={**agency, "X-Purpose": "eligibility review"},
        )
        assert read.status_code == 200
        audit = await client.get(
            f"/v1/audit?resident_id={budi['id']}", headers=keys.headers("admin")
        )
        actions = {(a["action"], a.get("stated_purpose")) for a in audit.json()["items"]}
        assert ("resident.deciles", "eligibility review") in actions, audit.text

        # Out of a village government's region the resident does not exist, as a missing one.
        elsewhere = keys.headers("village_government", region=MEGASARI)
        hidden = await client.get(f"/v1/residents/{budi['id']}/deciles", headers=elsewhere)
        missing = await client.get("/v1/residents/no-such-id/deciles", headers=elsewhere)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
        company = keys.headers("company")
        assert (
            await client.get(f"/v1/residents/{budi['id']}/deciles", headers=company)
        ).status_code == 403  # providers read no decile of anyone

        for bad, field in (({"edition": "July 2025"}, "edition"), ({"source": "<b>"}, "source")):
            refused = await post_import(client, agency, to_csv([row(2)]), **bad)
            assert refused.status_code == 422 and field in field_errors(refused), refused.text


def _written(app: Any) -> dict[str, Any]:
    """What an import wrote, keyed by NIK, without what differs between any two runs (ids,
    times)."""
    with app.state.db.session(write=False) as session:
        residents = [dict(r) for r in session.execute(select(table_of(Resident))).mappings()]
        nik_of = {r["id"]: r["nik"] for r in residents}
        history = session.execute(select(table_of(ResidentChange))).mappings().all()
        decile_rows = session.execute(select(table_of(ResidentDecile))).mappings().all()
        outbox = session.execute(select(feed_tables.outbox)).mappings().all()
        rejected = session.execute(select(table_of(ImportRejection))).mappings().all()
    moments = {"id", "registered_at", "updated_at", "consent_at", "changed_at", "recorded_at"}
    payload_moments = {"id", "registered_at"}
    return {
        "residents": {
            r["nik"]: {k: v for k, v in r.items() if k not in moments} for r in residents
        },
        "history": sorted(
            (nik_of[h["resident_id"]], h["version"], h["event"], tuple(h["fields"]), h["org_id"])
            for h in history
        ),
        "deciles": sorted(
            (
                nik_of[d["resident_id"]],
                d["welfare_decile"],
                d["source"],
                d["edition"],
                d["effective_on"],
                d["org_id"],
            )
            for d in decile_rows
        ),
        "outbox": sorted(
            (
                nik_of[o["entity_id"]],
                o["event"],
                o["version"],
                sorted((k, str(v)) for k, v in o["payload"].items() if k not in payload_moments),
            )
            for o in outbox
        ),
        "rejections": sorted((r["row"], r["column"], r["message"]) for r in rejected),
    }


async def test_the_fast_path_writes_what_the_row_by_row_path_writes(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    agency = keys.headers("government_agency")
    rows = [row(i, welfare_decile=str(1 + i % 10)) for i in range(1, 14)]
    rows[1]["welfare_decile"] = ""  # no decile
    rows[2]["skills"] = ""
    rows[3]["sex"] = "P"  # a man's NIK: rejected
    rows[4]["birth_date"] = "06-01-1990"  # DD-MM-YYYY
    rows[5]["skills"] = "juggling"
    rows[6]["phone"] = "12"
    rows[7]["village_code"] = TARJUN.replace(".", "")
    rows[8] = dict(rows[0], full_name="Again")  # the NIK of row 2 again
    consent = dict(row(20), consent_given="true", consent_purpose="programme")
    columns = [*COLUMNS, "consent_given", "consent_purpose"]
    first = to_csv([*rows, consent], columns)
    # A later edition: updates and a new resident; an earlier one for history only.
    later = to_csv([dict(r, welfare_decile="9") for r in rows[:3]] + [row(30)])
    earlier = to_csv([dict(r, welfare_decile="10") for r in rows[:2]])
    written = []
    for fast in (True, False):
        async with registry_client(
            databases.new(backend, "registry"), keys, import_chunk_size=4, import_fast_path=fast
        ) as client:
            await register(client, agency, resident(1, full_name="Registered By Hand"))
            for content, form in (
                (first, {"source": "DTSEN", "edition": "2025-07"}),
                (later, {"source": "DTSEN", "edition": "2026-01"}),
                (earlier, {"source": "DTKS", "edition": "2023"}),
            ):
                job = await finished(
                    client, agency, await post_import(client, agency, content, **form)
                )
                assert job["status"] == "done", job
            written.append(_written(client.app))  # type: ignore[attr-defined]
    fast_path, per_row = written
    assert len(fast_path["residents"]) == 12 and len(fast_path["rejections"]) == 4
    assert len(fast_path["deciles"]) > 10 and len(fast_path["outbox"]) > 11
    for part in ("residents", "history", "deciles", "outbox", "rejections"):
        assert fast_path[part] == per_row[part], part


def test_the_column_checks_accept_only_what_the_row_checks_accept() -> None:
    """Cells at the edges of each rule: the fast path's outcome is the per-row path's, value
    for value, or it leaves the row to the per-row path."""
    header = [*COLUMNS, "address", "household_size", "monthly_income_idr", "disability"]
    fields = layouts.resolve(header, {}).fields
    agency = Principal(
        subject="u", org_id="o", org_type="government_agency", region=None, scopes=frozenset()
    )
    base = row(1)
    edges: dict[str, list[str]] = {
        "welfare_decile": ["03", "0", "10", "11", "+3", "3.0", " 3"],
        "birth_date": ["1990-1-2", "02-01-1990", "1990-01-02T00:00:00", "1899-12-31", "2990-01-02"],
        "sex": ["m", "L", "Laki-Laki", "X"],
        "village_code": ["6302172002", "63.02.17.9999", TARJUN + " "],
        "phone": ["0812 345 678", "+62812345678", "62-812-345-678", "12", "0812345678901234"],
        "skills": ["welding-smaw;welding-smaw", ";", "Welding-SMAW", "juggling"],
        "nik": ["'" + base["nik"], base["nik"] + "0", "\u0661" * 16],  # Arabic-Indic digits
        "full_name": ["x" * 120, "x" * 121, "Budi\tSantoso"],
    }
    extra = {"address": "Jl. Semen", "household_size": "4", "monthly_income_idr": "1500000"}
    data: list[list[str]] = []
    for name, values in edges.items():
        for value in values:
            cells = {**base, **extra, "disability": "visual;physical;visual", name: value}
            data.append([cells.get(column, "") for column in header])
    data.append([*data[0], "one cell too many"])
    fast = Validator(fields, data, agency, vectorised=True).upto(len(data))
    slow = Validator(fields, data, agency, vectorised=False).upto(len(data))
    assert [(o.row, o.values, o.errors) for o in fast] == [
        (o.row, o.values, o.errors) for o in slow
    ]
    accepted = columns.accepted(fields, data, agency)
    assert 0 < sum(o is not None for o in accepted) < len(data)


async def test_a_running_job_reports_its_progress_and_the_time_it_still_needs(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> None:
    async with registry_client(
        databases.new(backend, "registry"), keys, import_chunk_size=3
    ) as client:
        app = client.app  # type: ignore[attr-defined]
        with app.state.db.session() as session:
            content = to_csv([row(i) for i in range(1, 10)])
            started = datetime.now(UTC) - timedelta(seconds=30)
            session.add(queued_job("job-progress", content, sha256="x", created_at=started))
        run_job(app.state.db, "job-progress", app.state.settings, max_chunks=1)
        job = (
            await client.get("/v1/residents/imports/job-progress", headers=keys.headers("admin"))
        ).json()
        assert (job["status"], job["processed_rows"], job["total_rows"]) == ("running", 3, 9)
        # A third done in about 30 s: about a minute left.
        assert 55 <= job["seconds_left"] <= 70, job


@pytest.mark.anyio
async def test_a_nik_registered_while_its_chunk_is_written_is_updated_not_duplicated(
    keys: TestKeys, databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another request registers a NIK of the chunk after the job looked the chunk's NIKs up:
    the set-based insert fails on the NIK's unique index, and the chunk is redone row by row,
    which finds that resident and updates it. PostgreSQL only: SQLite serialises writers, so
    no other request writes while a chunk is written."""
    agency = keys.headers("government_agency")
    rows = [row(i) for i in range(1, 6)]
    meanwhile = dict(rows[2], full_name="Registered Meanwhile")
    async with registry_client(databases.new("postgresql", "registry"), keys) as client:
        app = client.app  # type: ignore[attr-defined]
        looked_up = bulk._recorded_editions

        def register_meanwhile(session: Any, job: Any, ids: list[str]) -> Any:
            if not registered:
                registered.append(True)
                outcome = Validator(COLUMNS, [[meanwhile[n] for n in COLUMNS]], job.principal)
                with app.state.db.session() as other:
                    record = bulk._new_record(outcome.upto(1)[0], job, datetime.now(UTC))
                    bulk.bulk_insert(other, table_of(Resident), [record])
            return looked_up(session, job, ids)

        registered: list[bool] = []
        monkeypatch.setattr(bulk, "_recorded_editions", register_meanwhile)
        job = await finished(client, agency, await post_import(client, agency, to_csv(rows)))
        assert registered
        assert (job["status"], job["created"], job["updated"], job["rejected"]) == (
            "done",
            4,
            1,
            0,
        ), job
        with app.state.db.session(write=False) as session:
            names = session.scalars(
                select(col(Resident.full_name)).where(col(Resident.nik) == rows[2]["nik"])
            ).all()
            events = session.execute(
                select(col(ResidentChange.event), col(ResidentChange.resident_id))
            ).all()
        assert names == [rows[2]["full_name"]]
        # One entry per resident and event: the redone rows staged one at a time, each alone.
        assert sorted(event for event, _ in events) == ["created"] * 4 + ["updated"]
        assert len(set(events)) == 5
