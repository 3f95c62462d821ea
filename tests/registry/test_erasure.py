"""Item 6 of issue 13: erasure reaches every copy of a person's data the registry keeps. A
resident with distinctive values is registered, edited, imported, duplicated, held for NIK
review, disclosed, visited and audited; after erasure every text, JSON and binary column of
every table of the registry's database (reflected, so a new table is covered the day it is
added) is searched for each erased value and none is found. Import files are deleted when
their job ends; a retried upload of the same file still works."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, select

from shared.kit.database import normalise_url
from tests.registry.support import MEGASARI, TARJUN, make_nik, register, registry_client
from tests.registry.test_imports import row, to_csv, upload
from tests.registry.test_provider_view import disclose

BORN = date(1987, 11, 23)
NIK = make_nik(BORN, "F", serial="7319")
FAMILY_CARD = "6302179988776655"
NAME = "Wulandari Kusumaningtyas"
PHONE = "081377889911"
ADDRESS = "Gang Mawar Tujuh 19, Tarjun"
NOTE_PHONE = "0813-7788-9911"
# Every form in which the person's data may have been copied somewhere.
ERASED = {
    "nik": NIK,
    "family card": FAMILY_CARD,
    "name": NAME,
    "name, any case": NAME.upper(),
    "first name": "Wulandari",
    "phone": "+6281377889911",
    "phone, local": PHONE,
    "phone, as typed": NOTE_PHONE,
    "address": "Gang Mawar Tujuh",
    "birth date": BORN.isoformat(),
}


def _person(**fields: Any) -> dict[str, Any]:
    return {
        "nik": NIK,
        "family_card_number": FAMILY_CARD,
        "full_name": NAME,
        "sex": "F",
        "birth_date": BORN.isoformat(),
        "village_code": TARJUN,
        "address": ADDRESS,
        "phone": PHONE,
        "welfare_decile": 2,
        **fields,
    }


def _every_value(url: str) -> list[tuple[str, str, str]]:
    """(table, column, text) of every non-null cell of every table in the database."""
    engine = create_engine(normalise_url(url))
    metadata = MetaData()
    metadata.reflect(engine)
    cells = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for found in connection.execute(select(table)).mappings():
                for column, value in found.items():
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        text = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value)
                    else:
                        text = str(value)
                    cells.append((table.name, column, text))
    engine.dispose()
    assert {"resident", "follow_up", "import_job", "audit_record"} <= {t for t, _, _ in cells}
    return cells


def _copies(url: str) -> list[tuple[str, str, str]]:
    return [
        (table, column, label)
        for table, column, text in _every_value(url)
        for label, value in ERASED.items()
        if value.casefold() in text.casefold()
    ]


@pytest.mark.anyio
async def test_erasure_leaves_no_erased_value_in_any_table(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    url = databases.new(backend, "registry")
    admin = keys.headers("admin")
    agency = keys.headers("government_agency", org_id="org-dinsos")
    village = keys.headers("village_government", org_id="org-desa-megasari", region=MEGASARI)
    async with registry_client(url, keys) as client:
        # An import that carried the person (and a bad row, for a row report), then the
        # person edited by hand, read with purposes naming them, visited with notes that
        # quote their name, phone and NIK.
        csv = to_csv(
            [
                row(1, nik=NIK, full_name=NAME, sex="F", birth_date=BORN.isoformat(), phone=PHONE),
                row(2, nik=NIK, full_name=NAME, sex="F", birth_date=BORN.isoformat()),
                row(3, phone=PHONE + "x"),
            ]
        )
        job = await upload(client, agency, csv)
        assert (job["created"], job["rejected"]) == (1, 2), job
        [person] = (await client.get("/v1/residents", params={"q": NIK}, headers=agency)).json()[
            "items"
        ]
        rid = person["id"]
        edited = await client.patch(
            f"/v1/residents/{rid}",
            json={
                "family_card_number": FAMILY_CARD,
                "address": ADDRESS,
                "household_size": 4,
                "consent": {"given": True, "purpose": f"programme, agreed by {NAME}"},
            },
            headers={**agency, "If-Match": f'"{person["version"]}"'},
        )
        assert edited.status_code == 200, edited.text
        await client.get(
            f"/v1/residents/{rid}", headers={**agency, "X-Purpose": f"call {NAME} on {PHONE}"}
        )
        visit = {
            "visited_on": "2026-06-01",
            "employment_status": "employed",
            "monthly_income_idr": 900_000,
            "household_size": 4,
            "notes": f"Met {NAME} (NIK {NIK}); reach her on {NOTE_PHONE}, {ADDRESS}.",
        }
        visited = await client.post(f"/v1/residents/{rid}/follow-ups", json=visit, headers=agency)
        assert visited.status_code == 201, visited.text

        # A duplicate of her registered under another NIK, merged into her; a registration of
        # her NIK by a village government that cannot see her, held for NIK review.
        duplicate = await register(
            client, agency, _person(nik=make_nik(BORN, "F", serial="7320"), village_code=MEGASARI)
        )
        merged = await client.post(
            "/v1/residents/duplicates/resolve",
            json={"action": "merge", "resident_ids": [rid, duplicate["id"]], "keep": rid},
            headers=agency,
        )
        assert merged.status_code == 200, merged.text
        held = await register(client, village, _person(village_code=MEGASARI))
        queue = (await client.get("/v1/residents/duplicates/nik-reviews", headers=agency)).json()
        assert [r["registration"]["id"] for r in queue["items"]] == [held["id"]]
        # A provider to whom she was disclosed reads her.
        disclose(client, rid, "org-company-cement", "placement")
        provider = keys.headers("company", org_id="org-company-cement")
        assert (await client.get(f"/v1/residents/{rid}", headers=provider)).status_code == 200

        before = _copies(url)
        for table in ("resident", "follow_up", "audit_record"):
            assert table in {t for t, _, _ in before}, before
        # The file went with its job's end; the row report names columns and rows only.
        assert not [c for c in before if c[0] == "import_job"]

        erased = await client.post(f"/v1/residents/{rid}/erase", headers=admin)
        assert erased.status_code == 200, erased.text

        assert _copies(url) == []
        # What stays is what counts need, and the records of who saw her data stay, too.
        after = (await client.get(f"/v1/residents/{rid}", headers=agency)).json()
        assert (after["status"], after["village_code"], after["household_size"]) == (
            "archived",
            TARJUN,
            4,
        )
        notes = (await client.get(f"/v1/residents/{rid}/follow-ups", headers=agency)).json()
        assert [v["notes"] for v in notes["items"]] == [None]
        trail = (await client.get("/v1/audit", params={"resident_id": rid}, headers=admin)).json()
        assert "resident.read" in {r["action"] for r in trail["items"]}
        for copy in (duplicate["id"], held["id"]):
            gone = (await client.get(f"/v1/residents/{copy}", headers=agency)).json()
            assert gone["erased_at"] and gone["nik"] is None
        queue = (await client.get("/v1/residents/duplicates/nik-reviews", headers=agency)).json()
        assert queue["items"] == []
        # No provider reads her any more.
        assert (await client.get(f"/v1/residents/{rid}", headers=provider)).status_code == 404


@pytest.mark.anyio
async def test_an_import_file_is_deleted_when_its_job_ends(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    from services.registry.models import ImportJob

    url = databases.new(backend, "registry")
    agency = keys.headers("government_agency")
    async with registry_client(url, keys) as client:
        csv = to_csv([row(1), row(2, phone="not a phone")])
        first = await upload(client, agency, csv)
        assert first["status"] == "done" and first["rejected"] == 1
        # The same file again: a new job, which finds the row applied already.
        again = await upload(client, agency, csv)
        assert again["id"] != first["id"]
        assert (again["status"], again["created"], again["unchanged"]) == ("done", 0, 1)
        rejected = await client.get(
            f"/v1/residents/imports/{again['id']}/rejections", headers=agency
        )
        assert [r["column"] for r in rejected.json()["items"]] == ["phone"]
        db = client.app.state.db  # type: ignore[attr-defined]
        with db.session(write=False) as session:
            jobs = list(session.scalars(select(ImportJob)))
        assert len(jobs) == 2
        assert all(j.content is None and j.content_sha256 for j in jobs)
