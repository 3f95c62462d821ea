"""Benchmark 2, import: a resident CSV through ``POST /v1/residents/import`` until its job
finishes, against PostgreSQL's ``COPY`` of the same rows into a table of the same shape
(``CREATE TABLE ... (LIKE resident INCLUDING ALL)``: same columns, constraints and indexes).

The import does what the registry must (validation, NIK rules, duplicate check, the change
history, the decile history and the change feed): validation a column at a time, and on
PostgreSQL the rows, history and feed written set-based from a staging table (issue 16).
``COPY`` is the floor: the database writing the rows and their indexes and nothing else.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import httpx
import psycopg
from psycopg.types.json import Jsonb

from bench.clients import import_residents, resident_csv
from bench.harness import (
    SEED,
    BenchKeys,
    Report,
    Service,
    Stopwatch,
    fresh_database,
    ratio,
    service_env,
    workdir,
)
from services.registry.residents.models import WRITABLE_FIELDS, normalise_phone
from services.registry.residents.records import name_key

SIZES = {"quick": {"rows": 2_000}, "full": {"rows": 100_000}}
POLL_SECONDS = 0.5
LIST_FIELDS = ("skills", "disability")
NUMBER_FIELDS = ("monthly_income_idr", "household_size", "welfare_decile")


def copy_rows(content: bytes) -> list[dict[str, object]]:
    """The CSV's rows as the resident table stores them (derived columns filled in), prepared
    before the clock starts: the baseline is the database's floor, not a CSV parser."""
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    for row in csv.DictReader(io.StringIO(content.decode())):
        village = row["village_code"]
        stored: dict[str, object] = {"id": str(uuid.uuid4())}
        stored |= {name: row[name] for name in WRITABLE_FIELDS}
        stored |= {name: Jsonb([s for s in row[name].split(";") if s]) for name in LIST_FIELDS}
        stored |= {name: int(row[name]) for name in NUMBER_FIELDS}
        stored |= {
            "phone": normalise_phone(row["phone"]),
            "name_key": name_key(row["full_name"]),
            "district_code": village.rsplit(".", 1)[0],
            "regency_code": village[:5],
            "status": "registered",
            "version": 1,
            "source_org_id": "bench",
            "registered_at": now,
            "updated_at": now,
        }
        rows.append(stored)
    return rows


def copy_baseline(database_url: str, rows: list[dict[str, object]]) -> float:
    """Seconds to COPY the rows into a fresh table shaped like ``resident``, committed."""
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE resident_copy (LIKE resident INCLUDING ALL)")
        conn.commit()
        # Every row has its columns in the same order; tuples, made before the clock starts.
        columns = ", ".join(rows[0])
        values = [tuple(row.values()) for row in rows]
        clock = Stopwatch()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY resident_copy ({columns}) FROM STDIN") as copy,
        ):
            for row in values:
                copy.write_row(row)
        conn.commit()
        seconds = clock.seconds
        copied = conn.execute("SELECT count(*) FROM resident_copy").fetchone()
    if not copied or copied[0] != len(rows):
        raise RuntimeError(f"COPY wrote {copied} rows, expected {len(rows)}")
    return seconds


def run(*, quick: bool) -> Report:
    rows = SIZES["quick" if quick else "full"]["rows"]
    report = Report("imports", "Import: resident CSV", quick, sizes={"rows": rows})
    content = resident_csv(rows, SEED + 2)
    report.sizes["csv_bytes"] = len(content)
    with (
        workdir("import") as work,
        fresh_database("import_registry", "registry") as registry_db,
    ):
        keys = BenchKeys(work)
        # No feed consumer: the bench starts neither matching nor a token issuer, and a
        # consumer that cannot reach them retries twice a second, building a TLS context each
        # time (a fifth of the service's samples in a profile): a cost of the bench's setup,
        # not of the import.
        registry_env = service_env("REGISTRY", registry_db, keys) | {
            "REGISTRY_CONSUME_FEEDS": "false"
        }
        with Service("registry", "services.registry.main:create_app", registry_env, work) as reg:
            # An agency's staff import lists; the registry checks the token's signature alone.
            auth = {"Authorization": keys.authorization("government_agency")}
            with httpx.Client(base_url=reg.url, headers=auth, timeout=300) as client:
                clock = Stopwatch()
                uploaded = datetime.now(UTC)
                # Polled twice a second, as a client following a job does (the README's curl
                # loop asks every 2 s): no request every 50 ms competing with the worker for
                # the service's one process. The figure ends when the job says it finished,
                # not at the poll that saw it (up to half a second later); same machine, so
                # the same clock.
                job = import_residents(client, content, poll_seconds=POLL_SECONDS)
                polled_seconds = clock.seconds
                finished_at = datetime.fromisoformat(job["finished_at"])
                import_seconds = (finished_at - uploaded).total_seconds()
        if not 0 < import_seconds <= polled_seconds:
            raise RuntimeError(
                f"job finished {import_seconds} s after upload, seen {polled_seconds}"
            )
        if job["created"] != rows:
            raise RuntimeError(f"the import created {job['created']} residents, not {rows}")
        copy_seconds = copy_baseline(registry_db, copy_rows(content))
    report.add(
        "POST /v1/residents/import (upload to job done)",
        rows=rows,
        seconds=round(import_seconds, 2),
        rows_per_second=round(rows / import_seconds),
    )
    report.add(
        "COPY into a table of the same shape",
        rows=rows,
        seconds=round(copy_seconds, 2),
        rows_per_second=round(rows / copy_seconds),
    )
    # Issue 16: the import at a third of COPY's speed or better.
    report.add_ratio("import/copy", ratio(copy_seconds, import_seconds), goal=0.33)
    report.notes.append("import/copy is rows per second of the import over those of COPY")
    report.write()
    return report
