"""Bulk import: a job stored with its file, applied by a worker in chunks.

Speed comes from doing per row only what must be per row (validation, in Python) and per chunk
everything that touches the database: one query for the chunk's existing residents by NIK,
one multi-row insert each for new residents, history, outbox and rejections, one executemany
for updates. A chunk that fails as a whole (a NIK registered meanwhile by a concurrent request)
is redone row by row under savepoints, so one bad row never sinks its neighbours.

Exactly once: a chunk's residents, its rejections and the job's ``processed_rows`` commit in
one transaction, guarded by ``processed_rows`` still being where the worker found it; a worker
that crashed leaves the job at the last committed chunk, and a worker that finds another one
ahead stops.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import psycopg
from sqlalchemy import JSON, Table, bindparam, insert, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, or_, select

from services.registry import access
from services.registry.duplicates.models import NikReview
from services.registry.imports.limits import import_limits
from services.registry.imports.models import (
    ImportJob,
    ImportJobPublic,
    ImportRejection,
    RejectedRow,
)
from services.registry.imports.parsing import (
    FileRejected,
    check_at_upload,
    detect_format,
    isolated,
    read_csv,
)
from services.registry.imports.rows import COLUMNS, RowOutcome, check_header, validate_row
from services.registry.residents import service as residents
from services.registry.residents.models import (
    WRITABLE_FIELDS,
    ResidentChange,
    as_utc,
    name_key,
)
from services.registry.residents.models import Resident as ResidentTable
from services.registry.settings import RegistrySettings
from services.registry.tables import feed_tables
from shared.kit.database import Database
from shared.kit.feed import record_changes
from shared.kit.pagination import PageParams, paginate
from shared.kit.problems import NotFound, PayloadTooLarge, UnprocessableEntity
from shared.kit.tokens import Principal
from shared.programme.regions import district_of, regency_of

logger = logging.getLogger("sinergi.registry.imports")

REPORTED_REJECTIONS = 1000
# A NIK registered by someone else between our read and our write; COPY raises the driver's
# own error, not SQLAlchemy's.
CONFLICTS = (IntegrityError, psycopg.errors.IntegrityError)
resident_table: Table = ResidentTable.__table__  # type: ignore[attr-defined]
RESIDENT_COLUMNS = tuple(column.name for column in resident_table.c)
# Every field a client may write, except the key rows are matched by.
COMPARED = tuple(name for name in WRITABLE_FIELDS if name != "nik")


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- submitting and reading jobs ---------------------------------------------------------


def submit(
    session: Session,
    principal: Principal,
    filename: str | None,
    content: bytes,
    dry_run: bool,
    settings: RegistrySettings,
) -> ImportJob:
    if not content:
        raise UnprocessableEntity(["body", "file"], "the file is empty")
    if len(content) > settings.import_max_bytes:
        raise PayloadTooLarge(f"the file exceeds {settings.import_max_bytes} bytes")
    file_format = detect_format(filename, content)
    if file_format == "xlsx":
        # Only what bounded work can tell is checked in the request (the zip's declared
        # members and sizes, the sheet's declared rows), so a bomb or an oversized list is
        # refused at once; the cells are read by the job, bounded, in a child process.
        try:
            check_at_upload(content, import_limits(settings)[0])
        except FileRejected as exc:
            raise UnprocessableEntity(["body", "file"], str(exc)) from exc
    else:
        # Only the first line is read here: a file that is no resident list at all (its first
        # line names none of our columns) is refused now, not queued as a job that can only
        # fail. Header mistakes of a real list are reported by the job, with the rest.
        try:
            header, _ = read_csv(content.split(b"\n", 1)[0], max_rows=0)
        except FileRejected as exc:
            raise UnprocessableEntity(["body", "file"], str(exc)) from exc
        if not any(name in COLUMNS for name in header):
            raise UnprocessableEntity(
                ["body", "file"], f"the first line names none of the columns {', '.join(COLUMNS)}"
            )
    digest = hashlib.sha256(content).hexdigest()
    # A retried upload of a file still being processed is the same job, not a second one.
    running = session.scalars(
        select(ImportJob).where(
            col(ImportJob.org_id) == principal.org_id,
            col(ImportJob.content_sha256) == digest,
            col(ImportJob.dry_run) == dry_run,
            col(ImportJob.status).in_(("queued", "running")),
        )
    ).first()
    if running is not None:
        return running
    job = ImportJob(
        id=residents.new_id(),
        org_id=principal.org_id,
        org_type=principal.org_type,
        region=principal.region,
        subject=principal.subject,
        file_format=file_format,
        content=content,
        content_sha256=digest,
        dry_run=dry_run,
        created_at=now_utc(),
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, principal: Principal, job_id: str) -> ImportJob:
    job = session.get(ImportJob, job_id)
    # Another organisation's job is 404: its report names rows of its residents.
    if job is None or (job.org_id != principal.org_id and principal.org_type != "admin"):
        raise NotFound("no such import job")
    return job


def rejections(
    session: Session, job_id: str, params: PageParams
) -> tuple[list[RejectedRow], str | None]:
    statement = select(ImportRejection).where(col(ImportRejection.job_id) == job_id)
    rows, cursor = paginate(session, statement, [col(ImportRejection.id)], params)  # type: ignore[list-item]
    return [RejectedRow(row=r.row, column=r.column, message=r.message) for r in rows], cursor


def to_public(session: Session, job: ImportJob) -> ImportJobPublic:
    found = list(
        session.scalars(
            select(ImportRejection)
            .where(col(ImportRejection.job_id) == job.id)
            .order_by(col(ImportRejection.id))
            .limit(REPORTED_REJECTIONS + 1)
        )
    )
    return ImportJobPublic(
        id=job.id,
        status=job.status,
        dry_run=job.dry_run,
        file_format=job.file_format,
        total_rows=job.total_rows,
        processed_rows=job.processed_rows,
        created=job.created,
        updated=job.updated,
        unchanged=job.unchanged,
        rejected=job.rejected,
        error=job.error,
        attempts=job.attempts,
        created_at=as_utc(job.created_at),
        finished_at=as_utc(job.finished_at),
        rejections=[
            RejectedRow(row=r.row, column=r.column, message=r.message)
            for r in found[:REPORTED_REJECTIONS]
        ],
        rejections_truncated=len(found) > REPORTED_REJECTIONS,
    )


# --- the worker ---------------------------------------------------------------------------


def _claimable(at: datetime) -> Any:
    """Queued, or running with a lease that ran out (its worker crashed or stopped on an
    error)."""
    return or_(
        col(ImportJob.status) == "queued",
        (col(ImportJob.status) == "running") & (col(ImportJob.lease_until) < at),
    )


def claim(db: Database, job_id: str, settings: RegistrySettings) -> bool:
    """Take the job when it is queued or its worker's lease ran out (a crash), counting the
    attempt; a job whose attempts are used up is marked failed instead."""
    at = now_utc()
    with db.session() as session:
        result = session.execute(
            update(ImportJob)
            .where(
                col(ImportJob.id) == job_id,
                _claimable(at),
                col(ImportJob.attempts) < settings.import_max_attempts,
            )
            .values(
                status="running",
                lease_until=at + timedelta(seconds=settings.import_lease_seconds),
                attempts=col(ImportJob.attempts) + 1,
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            return True
        # Every attempt's worker died without reporting (e.g. the file exhausts its memory).
        session.execute(
            update(ImportJob)
            .where(
                col(ImportJob.id) == job_id,
                _claimable(at),
                col(ImportJob.attempts) >= settings.import_max_attempts,
            )
            .values(
                status="failed",
                error=_gave_up(settings, "the worker stopped before finishing"),
                finished_at=at,
                lease_until=None,
                content=None,
            )
        )
        return False


def _gave_up(settings: RegistrySettings, cause: str) -> str:
    return (
        f"gave up after {settings.import_max_attempts} attempts: {cause}. The rows counted in "
        "processed_rows stay applied; ask an administrator to look into it before uploading "
        "the file again"
    )


def pending_jobs(db: Database) -> list[str]:
    at = now_utc()
    with db.session(write=False) as session:
        return list(
            session.scalars(
                select(col(ImportJob.id)).where(_claimable(at)).order_by(col(ImportJob.created_at))
            )
        )


def run_job(
    db: Database, job_id: str, settings: RegistrySettings, *, max_chunks: int | None = None
) -> None:
    """Process a job to the end, from where it was left. ``max_chunks`` stops early, leaving
    the job as a crash would (tests of resumption use it)."""
    if not claim(db, job_id, settings):
        return
    try:
        _run(db, job_id, settings, max_chunks)
    except FileRejected as exc:
        _finish(db, job_id, "failed", str(exc))
    except Exception as exc:
        # Only the error's type is logged or kept: database errors quote the offending values
        # (NIKs).
        logger.error("import job %s stopped: %s", job_id, type(exc).__name__)
        if _attempts(db, job_id) < settings.import_max_attempts:
            raise  # the lease runs out and a worker resumes after the last committed chunk
        cause = f"it stopped on an unexpected error ({type(exc).__name__}) each time"
        _finish(db, job_id, "failed", _gave_up(settings, cause))


def _attempts(db: Database, job_id: str) -> int:
    with db.session(write=False) as session:
        return (
            session.scalar(select(col(ImportJob.attempts)).where(col(ImportJob.id) == job_id)) or 0
        )


@dataclass(slots=True)
class Job:
    id: str
    principal: Principal
    dry_run: bool
    start: int


def _run(db: Database, job_id: str, settings: RegistrySettings, max_chunks: int | None) -> None:
    with db.session(write=False) as session:
        record = session.get(ImportJob, job_id)
        if record is None:
            return
        content, file_format = record.content, record.file_format
        if content is None:  # ended meanwhile, its file deleted with its end
            return
        job = Job(
            id=record.id,
            principal=Principal(
                subject=record.subject,
                org_id=record.org_id,
                org_type=record.org_type,
                region=record.region,
                scopes=frozenset(),
            ),
            dry_run=record.dry_run,
            start=record.processed_rows,
        )
    bounds, isolation = import_limits(settings)
    header, data = isolated(file_format, content, bounds, isolation)
    del content
    problems = check_header(header)
    if problems:
        raise FileRejected("; ".join(problems))
    outcomes = _validate_all(header, data, job.principal)
    with db.session() as session:
        session.execute(
            update(ImportJob).where(col(ImportJob.id) == job.id).values(total_rows=len(outcomes))
        )
    position = job.start
    chunks = 0
    while position < len(outcomes):
        if max_chunks is not None and chunks >= max_chunks:
            return
        end = min(position + settings.import_chunk_size, len(outcomes))
        if not _apply_chunk(db, job, outcomes, position, end, settings):
            return  # another worker is ahead of us
        position = end
        chunks += 1
        if chunks & (chunks - 1) == 0 and not job.dry_run:
            _refresh_statistics(db)
    _finish(db, job.id, "done", None)


def _refresh_statistics(db: Database) -> None:
    """A bulk import can grow the resident table from nothing to 100,000 rows within minutes,
    long before autovacuum looks. With the statistics of an empty table PostgreSQL looks NIKs
    up by scanning the whole table; re-analysing each time the import has doubled its chunk
    count keeps the index lookups (a handful of ANALYZEs per import, each a sample)."""
    if db.is_sqlite:
        return
    with db.session() as session:
        session.execute(text("ANALYZE resident"))


def _validate_all(
    header: list[str], data: list[list[str]], principal: Principal
) -> list[RowOutcome]:
    """Every row (empty ones are skipped but keep their number); a NIK seen earlier in the
    file rejects the later row, since a row is applied whole and once."""
    outcomes = []
    first_seen: dict[str, int] = {}
    for index, cells in enumerate(data):
        if not cells:
            continue
        outcome = validate_row(index + 2, header, cells, principal)
        nik = outcome.values.get("nik")
        if nik is not None:
            if nik in first_seen:
                outcome.values = {}
                outcome.errors.append(("nik", f"repeats the NIK of row {first_seen[nik]}"))
            else:
                first_seen[nik] = outcome.row
        outcomes.append(outcome)
    return outcomes


def _finish(db: Database, job_id: str, status: str, error: str | None) -> None:
    """End the job and delete its file: the file is a copy of every resident it lists, kept
    for no purpose once the rows are applied (the row report, without cell values, stays). A
    retried upload of the same file is a new job from then on."""
    with db.session() as session:
        session.execute(
            update(ImportJob)
            .where(col(ImportJob.id) == job_id)
            .values(
                status=status, error=error, finished_at=now_utc(), lease_until=None, content=None
            )
        )


@dataclass(slots=True)
class ChunkResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


def _apply_chunk(
    db: Database,
    job: Job,
    outcomes: list[RowOutcome],
    start: int,
    end: int,
    settings: RegistrySettings,
) -> bool:
    rows = outcomes[start:end]
    try:
        with db.session() as session:
            if not _advance(session, job, start, end, settings):
                return False
            result = _apply_rows(session, job, rows, settings)
            _count(session, job, result)
        return True
    except CONFLICTS:
        logger.info("import job %s: chunk at row %s redone row by row", job.id, start)
    with db.session() as session:
        if not _advance(session, job, start, end, settings):
            return False
        result = ChunkResult()
        for outcome in rows:
            try:
                with session.begin_nested():
                    one = _apply_rows(session, job, [outcome], settings)
            except CONFLICTS:
                outcome.errors.append(("nik", "was registered by someone else meanwhile"))
                one = _apply_rows(session, job, [outcome], settings)
            result.created += one.created
            result.updated += one.updated
            result.unchanged += one.unchanged
            result.rejected += one.rejected
        _count(session, job, result)
    return True


def _advance(session: Session, job: Job, start: int, end: int, settings: RegistrySettings) -> bool:
    """Move the job past this chunk, only if no other worker did: the row lock this update
    takes also serialises two workers on one job."""
    result = session.execute(
        update(ImportJob)
        .where(col(ImportJob.id) == job.id, col(ImportJob.processed_rows) == start)
        .values(
            processed_rows=end,
            lease_until=now_utc() + timedelta(seconds=settings.import_lease_seconds),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _count(session: Session, job: Job, result: ChunkResult) -> None:
    session.execute(
        update(ImportJob)
        .where(col(ImportJob.id) == job.id)
        .values(
            created=col(ImportJob.created) + result.created,
            updated=col(ImportJob.updated) + result.updated,
            unchanged=col(ImportJob.unchanged) + result.unchanged,
            rejected=col(ImportJob.rejected) + result.rejected,
        )
    )


def _apply_rows(
    session: Session, job: Job, rows: Sequence[RowOutcome], settings: RegistrySettings
) -> ChunkResult:
    result = ChunkResult()
    rejections: list[dict[str, Any]] = []
    valid = [row for row in rows if not row.errors]
    existing: dict[str, Any] = {}
    niks = [row.values["nik"] for row in valid]
    if niks:
        for found in session.execute(
            sa_select(resident_table).where(resident_table.c.nik.in_(niks))
        ).mappings():
            existing[found["nik"]] = found
    at = now_utc()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []  # NIK reviews of held registrations
    for row in rows:
        if row.errors:
            continue
        current = existing.get(row.values["nik"])
        if current is None:
            record = _new_record(row, job.principal, at)
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
                record = _new_record(row, job.principal, at)
                record["held_nik"], record["nik"] = record["nik"], None
                held.append(residents.review_row(record["id"], current["id"], job.principal, at))
                inserts.append(record)
                history.append(_history(job.principal, record, "created", sorted(row.values), at))
                result.created += 1
                continue
            current = own
        record, fields = _merged_record(current, row, job.principal, at)
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
        inserts, updates, history, changes, held = [], [], [], [], []
    if inserts:
        bulk_insert(session, resident_table, inserts)
    if held:
        bulk_insert(session, NikReview.__table__, held)  # type: ignore[attr-defined]
    if updates:
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
        bulk_insert(session, ResidentChange.__table__, history)  # type: ignore[attr-defined]
    if changes:
        record_changes(session, feed_tables, changes)
    if rejections:
        bulk_insert(session, ImportRejection.__table__, rejections)  # type: ignore[attr-defined]
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
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'  # names from our own metadata
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(
                [json.dumps(row[c.name]) if c.name in as_json else row[c.name] for c in columns]
            )


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
    "version",
    "updated_at",
)


def _may_edit(principal: Principal, village_code: str) -> bool:
    return access.governs(principal, village_code)


def _own_held(session: Session, principal: Principal, nik: str) -> Any:
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


def _new_record(row: RowOutcome, principal: Principal, at: datetime) -> dict[str, Any]:
    values = row.values
    village = values["village_code"]
    record: dict[str, Any] = dict.fromkeys(RESIDENT_COLUMNS)
    record.update(
        id=residents.new_id(),
        skills=[],
        disability=[],
        status="registered",
        version=1,
        source_org_id=principal.org_id,
        registered_at=at,
        updated_at=at,
    )
    record.update(values)
    record.update(
        name_key=name_key(values["full_name"]),
        district_code=district_of(village),
        regency_code=regency_of(village),
    )
    if row.consent is not None:
        record.update(_consent(row.consent, principal, at))
    return record


def _consent(
    consent: dict[str, Any], principal: Principal, at: datetime, previous: str | None = None
) -> dict[str, Any]:
    return {
        "consent_status": residents.next_consent_status(previous, consent["given"]),
        "consent_given": consent["given"],
        "consent_purpose": consent["purpose"],
        "consent_at": consent["at"] or at,
        "consent_recorded_by": principal.org_id,
    }


def _merged_record(
    current: Any, row: RowOutcome, principal: Principal, at: datetime
) -> tuple[dict[str, Any], list[str]]:
    record = dict(current)
    fields = []
    for name, value in row.values.items():
        if name == "nik":
            continue
        old = record[name]
        if name in ("skills", "disability"):
            old = list(old or [])
        if old != value:
            record[name] = value
            fields.append(name)
    if "village_code" in fields:
        record["district_code"] = district_of(record["village_code"])
        record["regency_code"] = regency_of(record["village_code"])
        record["priority_rank"] = None
    if "full_name" in fields:
        record["name_key"] = name_key(record["full_name"])
    consent = row.consent
    if consent is not None and (
        (record["consent_given"], record["consent_purpose"])
        != (consent["given"], consent["purpose"])
        or (consent["at"] is not None and as_utc(record["consent_at"]) != consent["at"])
    ):
        previous = residents.consent_word(SimpleNamespace(**record))  # type: ignore[arg-type]
        record.update(_consent(consent, principal, at, previous))
        fields.append("consent")
    if fields:
        record["version"] += 1
        record["updated_at"] = at
    return record, sorted(fields)


def _history(
    principal: Principal, record: dict[str, Any], event: str, fields: list[str], at: datetime
) -> dict[str, Any]:
    return residents.history_row(
        principal,
        SimpleNamespace(**record),  # type: ignore[arg-type]
        event,
        fields,
        at,
    )


def _change(record: dict[str, Any], event: str, settings: RegistrySettings) -> dict[str, Any]:
    view = SimpleNamespace(**record)
    return {
        "entity": residents.ENTITY,
        "entity_id": record["id"],
        "event": event,
        "version": record["version"],
        "payload": residents.snapshot(view, settings),  # type: ignore[arg-type]
    }
