"""The rows a chunk of an import writes: residents new and changed, their history, their
changes on the feed, NIK reviews of held registrations, and the rejected rows.

Per chunk, not per row: one query for the chunk's existing residents by NIK, one multi-row
insert each for new residents, history, outbox and rejections, one executemany for updates.
What a resident derives from its values (district, regency, name key, the priority a move
clears, consent) is ``residents.records``', as for ``POST /v1/residents``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import JSON, RowMapping, String, Table, any_, bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import or_

from services.registry import access
from services.registry.deciles.models import ResidentDecile
from services.registry.duplicates.models import NikReview
from services.registry.imports import staged
from services.registry.imports.jobs import ChunkResult, Job
from services.registry.imports.models import ImportRejection
from services.registry.imports.rows import RowOutcome
from services.registry.residents import records
from services.registry.residents.models import WRITABLE_FIELDS, Resident, ResidentChange
from services.registry.settings import RegistrySettings
from services.registry.tables import feed_tables
from shared.kit.database import table_of
from shared.kit.feed import record_changes
from shared.kit.time import utcnow
from shared.kit.tokens import Principal

# A NIK registered by someone else between our read and our write; COPY and the staged
# insert raise the driver's own error, not SQLAlchemy's.
CONFLICTS = (IntegrityError, psycopg.errors.IntegrityError)
resident_table = table_of(Resident)
decile_table = table_of(ResidentDecile)
# Every field a client may write, except the key rows are matched by.
COMPARED = tuple(name for name in WRITABLE_FIELDS if name != "nik")
_UPDATED_COLUMNS = (
    *COMPARED,
    "name_key",
    "district_code",
    "regency_code",
    "priority_rank",
    "consent_given",
    "consent_purpose",
    "consent_at",
    "consent_recorded_by",
    "consent_status",
    "decile_source",
    "decile_edition",
    "decile_effective_on",
    "version",
    "updated_at",
)


def apply_rows(
    session: Session, job: Job, rows: Sequence[RowOutcome], settings: RegistrySettings
) -> ChunkResult:
    result = ChunkResult()
    rejections: list[dict[str, Any]] = []
    valid = [row for row in rows if not row.errors]
    existing: dict[str, RowMapping] = {}
    niks = [row.values["nik"] for row in valid]
    if niks:
        for found in session.execute(
            sa_select(resident_table).where(_among(session, resident_table.c.nik, niks))
        ).mappings():
            existing[found["nik"]] = found
    at = utcnow()
    recorded = _recorded_editions(session, job, [found["id"] for found in existing.values()])
    deciles: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []  # NIK reviews of held registrations
    set_based = (
        settings.import_fast_path
        and not job.dry_run
        and session.get_bind().dialect.name == "postgresql"
    )
    new: list[RowOutcome] = []  # new residents written set-based
    for row in rows:
        if row.errors:
            continue
        current = existing.get(row.values["nik"])
        if current is None and set_based and row.consent is None:
            new.append(row)
            result.created += 1
            continue
        if current is None:
            record = _new_record(row, job, at)
            deciles.extend(_decile(job, record, at))
            inserts.append(record)
            history.append(_history(job.principal, record, "created", sorted(row.values), at))
            changes.append(_change(record, "created", settings))
            result.created += 1
            continue
        if not _may_edit(job.principal, current["village_code"]) or current["pending_nik"]:
            # Issue 13 item 2: never say a NIK is registered out of the caller's sight. The
            # row is held for the agencies' NIK review and counted like a new registration;
            # the caller's own earlier held copy is updated as its own resident would be.
            own = _own_held(session, job.principal, row.values["nik"])
            if own is None:
                record = _new_record(row, job, at)
                deciles.extend(_decile(job, record, at))
                record["held_nik"], record["nik"] = record["nik"], None
                held.append(records.review_row(record["id"], current["id"], job.principal, at))
                inserts.append(record)
                history.append(_history(job.principal, record, "created", sorted(row.values), at))
                result.created += 1
                continue
            current = own
        record, fields, older = _merged_record(current, row, job, at)
        if older is not None and (record["id"], older) not in recorded:
            # An older edition than the one the resident's decile comes from: its decile joins
            # the history and overwrites nothing.
            deciles.append(_decile_entry(job, record["id"], older, at))
        if "welfare_decile" in fields or "decile_edition" in fields:
            deciles.extend(_decile(job, record, at))
        if not fields:
            result.unchanged += 1
            continue
        updates.append(record)
        history.append(_history(job.principal, record, "updated", fields, at))
        if record["held_nik"] is None:  # held registrations stay off the feed
            changes.append(_change(record, "updated", settings))
        result.updated += 1
    for row in rows:
        if row.errors:
            result.rejected += 1
            rejections.extend(
                {"job_id": job.id, "row": row.row, "column": column[:40], "message": message[:300]}
                for column, message in row.errors
            )
    if job.dry_run:
        inserts, updates, history, changes, held, deciles = [], [], [], [], [], []
    if new:
        staged.insert_new(session, job.principal, new, _stamp(job), settings, at)
    if inserts:
        bulk_insert(session, resident_table, inserts)
    if held:
        bulk_insert(session, table_of(NikReview), held)
    if updates and set_based:
        staged.update_existing(session, _UPDATED_COLUMNS, updates)
    elif updates:
        session.execute(
            update(resident_table)
            .where(resident_table.c.id == bindparam("b_id"))
            .values({name: bindparam(name) for name in _UPDATED_COLUMNS}),
            [
                {"b_id": record["id"], **{n: record[n] for n in _UPDATED_COLUMNS}}
                for record in updates
            ],
        )
    if history:
        bulk_insert(session, table_of(ResidentChange), history)
    if deciles:
        bulk_insert(session, decile_table, deciles)
    if changes:
        record_changes(session, feed_tables, changes)
    if rejections:
        bulk_insert(session, table_of(ImportRejection), rejections)
    return result


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Many rows at once, in this transaction: ``COPY`` on PostgreSQL (the cheapest way in,
    several times faster than an executemany of prepared INSERTs), an executemany elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    columns = [c for c in table.c if c.name in rows[0]]
    as_json = {c.name for c in columns if isinstance(c.type, JSON)}
    names = ", ".join(f'"{c.name}"' for c in columns)
    raw = session.connection().connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("COPY needs a psycopg connection")
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'  # names from our own metadata
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [json.dumps(row[c.name]) if c.name in as_json else row[c.name] for c in columns]
            )


def _may_edit(principal: Principal, village_code: str) -> bool:
    return access.governs(principal, village_code)


def _own_held(session: Session, principal: Principal, nik: str) -> RowMapping | None:
    """The caller's own resident showing it this NIK while the NIK waits for review (an
    earlier registration of it, or an edit to it), if any."""
    return (
        session.execute(
            sa_select(resident_table).where(
                or_(resident_table.c.held_nik == nik, resident_table.c.pending_nik == nik),
                resident_table.c.merged_into.is_(None),
                access.region_filter(principal),
            )
        )
        .mappings()
        .first()
    )


def _among(session: Session, column: Any, values: list[str]) -> Any:
    """``column IN values``; on PostgreSQL one array parameter (``= ANY``), not thousands of
    parameters to parse and plan for each chunk."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("among", values, type_=ARRAY(String)))
    return column.in_(values)


def _recorded_editions(session: Session, job: Job, resident_ids: list[str]) -> set[tuple[str, int]]:
    """(resident, decile) pairs the job's edition already gave these residents: an older
    edition imported twice adds its entry to the history once."""
    if job.edition is None or not resident_ids:
        return set()
    found = session.execute(
        sa_select(decile_table.c.resident_id, decile_table.c.welfare_decile).where(
            decile_table.c.resident_id.in_(resident_ids),
            decile_table.c.edition == job.edition,
            _same(decile_table.c.source, job.source),
        )
    )
    return {(resident_id, decile) for resident_id, decile in found}


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


def _stamp(job: Job) -> dict[str, Any]:
    """The edition a decile of this job comes from."""
    return {
        "decile_source": job.source,
        "decile_edition": job.edition,
        "decile_effective_on": job.effective_on,
    }


def _decile(job: Job, record: Mapping[str, Any], at: datetime) -> list[dict[str, Any]]:
    """The history entry of the decile ``record`` now holds from this job, if it holds one."""
    if record["welfare_decile"] is None:
        return []
    return [records.decile_row(job.principal, record["id"], record, at)]


def _decile_entry(job: Job, resident_id: str, decile: int, at: datetime) -> dict[str, Any]:
    return records.decile_row(
        job.principal, resident_id, {"welfare_decile": decile, **_stamp(job)}, at
    )


def _new_record(row: RowOutcome, job: Job, at: datetime) -> dict[str, Any]:
    principal = job.principal
    values = row.values
    record: dict[str, Any] = dict.fromkeys(records.COLUMNS)
    record.update(
        id=records.new_id(),
        skills=[],
        disability=[],
        status="registered",
        version=1,
        source_org_id=principal.org_id,
        registered_at=at,
        updated_at=at,
    )
    record.update(values)
    record.update(records.follow(values, record))
    if record["welfare_decile"] is not None:
        record.update(_stamp(job))
    if row.consent is not None:
        record.update(records.consent_fields(record, row.consent, principal.org_id, at))
    return record


def _merged_record(
    current: RowMapping, row: RowOutcome, job: Job, at: datetime
) -> tuple[dict[str, Any], list[str], int | None]:
    """The resident with the row applied, the fields that changed, and the row's decile when
    it is of an older edition than the resident's (kept out of the record)."""
    principal = job.principal
    record = dict(current)
    values = {name: value for name, value in row.values.items() if name != "nik"}
    older = None
    decile = values.get("welfare_decile")
    if decile is not None:
        since = current["decile_effective_on"]
        if since is not None and job.effective_on < since:
            older = values.pop("welfare_decile")
    fields = records.changed_fields(record, values)
    record.update({name: values[name] for name in fields})
    record.update(records.follow(fields, record))
    if "welfare_decile" in values and record["welfare_decile"] is not None:
        stamp = _stamp(job)
        restamped = job.edition is not None and any(
            record[name] != stamp[name] for name in ("decile_source", "decile_edition")
        )
        if "welfare_decile" in fields or restamped:
            record.update(stamp)
        if restamped and "welfare_decile" not in fields:
            fields.append("decile_edition")
    consent = row.consent
    if consent is not None and records.consent_differs(record, consent):
        record.update(records.consent_fields(record, consent, principal.org_id, at))
        fields.append("consent")
    if fields:
        record["version"] += 1
        record["updated_at"] = at
    return record, sorted(fields), older


def _history(
    principal: Principal, record: Mapping[str, Any], event: str, fields: list[str], at: datetime
) -> dict[str, Any]:
    return records.history_row(principal, record["id"], record["version"], event, fields, at)


def _change(record: Mapping[str, Any], event: str, settings: RegistrySettings) -> dict[str, Any]:
    return {
        "entity": records.ENTITY,
        "entity_id": record["id"],
        "event": event,
        "version": record["version"],
        "payload": records.snapshot(record, settings),
    }
