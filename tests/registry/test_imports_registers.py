"""Register extracts as agencies hold them (DTSEN headers, L/P, DD-MM-YYYY, undotted village
codes, extra columns) and a column mapping for any other layout, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.registry.support import TARJUN, field_errors, make_nik, registry_client
from tests.registry.test_imports import row, to_csv
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

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


@pytest.mark.anyio
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


@pytest.mark.anyio
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
