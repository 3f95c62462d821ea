"""An import job's life: created from an upload, claimed by a worker under a lease, moved
past each chunk it applied, finished (and its file deleted).

``processed_rows`` moves only when no other worker moved it first, and its update's row lock
serialises two workers on one job; a job whose attempts are used up fails instead of looping.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.orm import Session, defer
from sqlmodel import col, or_, select

from services.registry.deciles.models import SOURCE, effective_on
from services.registry.imports.layouts import MappingRejected, names_a_field, parse_mapping
from services.registry.imports.limits import import_limits
from services.registry.imports.models import (
    ImportJob,
    ImportJobPublic,
    ImportRejection,
    RejectedRow,
)
from services.registry.imports.parsing import FileRejected, check_at_upload, detect_format, read_csv
from services.registry.imports.rows import COLUMNS
from services.registry.residents.records import new_id
from services.registry.settings import RegistrySettings
from shared.kit.database import Database, rows_changed, table_of
from shared.kit.pagination import PageParams, paginate
from shared.kit.problems import NotFound, PayloadTooLarge, UnprocessableEntity
from shared.kit.time import as_utc, utcnow
from shared.kit.tokens import Principal

REPORTED_REJECTIONS = 1000


@dataclass(slots=True)
class Job:
    """A claimed job as its worker holds it: whose rows, and where to start."""

    id: str
    principal: Principal
    dry_run: bool
    start: int
    # The register edition of the file, and the day its deciles speak for (the upload's day
    # when it names no edition).
    source: str | None = None
    edition: str | None = None
    effective_on: date = field(default_factory=lambda: utcnow().date())
    mapping: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ChunkResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


# --- created ------------------------------------------------------------------------------


def submit(
    session: Session,
    principal: Principal,
    filename: str | None,
    content: bytes,
    dry_run: bool,
    settings: RegistrySettings,
    *,
    edition: Edition | None = None,
    mapping: str | None = None,
) -> ImportJob:
    edition = edition or Edition()
    try:
        columns = parse_mapping(mapping)
    except MappingRejected as exc:
        raise UnprocessableEntity(["body", "mapping"], str(exc)) from exc
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
        if not names_a_field(header, columns):
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
            _same(col(ImportJob.source), edition.source),
            _same(col(ImportJob.edition), edition.edition),
            col(ImportJob.status).in_(("queued", "running")),
        )
    ).first()
    if running is not None and (running.mapping or {}) == columns:
        return running
    job = ImportJob(
        id=new_id(),
        org_id=principal.org_id,
        org_type=principal.org_type,
        region=principal.region,
        subject=principal.subject,
        file_format=file_format,
        content=content,
        content_sha256=digest,
        dry_run=dry_run,
        source=edition.source,
        edition=edition.edition,
        mapping=columns or None,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


@dataclass(frozen=True, slots=True)
class Edition:
    """The register edition an upload declares (its ``source`` and ``edition`` form fields)."""

    source: str | None = None
    edition: str | None = None

    @classmethod
    def of(cls, source: str | None, edition: str | None) -> Edition:
        """The form fields checked, or 422 naming the one that is wrong."""
        source = (source or "").strip() or None
        edition = (edition or "").strip() or None
        if source is not None and not SOURCE.match(source):
            raise UnprocessableEntity(
                ["body", "source"], "must be up to 40 letters, digits, spaces, dots or dashes"
            )
        if edition is not None:
            try:
                effective_on(edition)
            except ValueError as exc:
                raise UnprocessableEntity(["body", "edition"], str(exc)) from exc
        return cls(source, edition)


# --- read ---------------------------------------------------------------------------------


def get_job(session: Session, principal: Principal, job_id: str) -> ImportJob:
    # Without the file: a client following a job asks every second or two, and each answer
    # would otherwise read the whole upload (17 MB for 100,000 rows) while the job runs.
    job = session.get(ImportJob, job_id, options=[defer(cast(Any, ImportJob.content))])
    # Another organisation's job is 404: its report names rows of its residents.
    if job is None or (job.org_id != principal.org_id and principal.org_type != "admin"):
        raise NotFound("no such import job")
    return job


def rejections(
    session: Session, job_id: str, params: PageParams
) -> tuple[list[RejectedRow], str | None]:
    statement = select(ImportRejection).where(col(ImportRejection.job_id) == job_id)
    rows, cursor = paginate(session, statement, [table_of(ImportRejection).c.id], params)
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
    # The job's own columns by name (UtcDateTime makes SQLite's naive times UTC), then the
    # first rejections, which live in their own table.
    report = {
        "rejections": [
            RejectedRow(row=r.row, column=r.column, message=r.message)
            for r in found[:REPORTED_REJECTIONS]
        ],
        "rejections_truncated": len(found) > REPORTED_REJECTIONS,
        "warnings": job.warnings or [],
        "seconds_left": _seconds_left(job),
    }
    columns = {
        name: getattr(job, name) for name in ImportJobPublic.model_fields if name not in report
    }
    return ImportJobPublic.model_validate({**columns, **report})


def _seconds_left(job: ImportJob) -> float | None:
    """The time a running job still needs at the pace it kept since it was uploaded."""
    if job.status != "running" or not job.total_rows or not job.processed_rows:
        return None
    elapsed = (utcnow() - as_utc(job.created_at)).total_seconds()
    left = job.total_rows - job.processed_rows
    return round(max(0.0, elapsed * left / job.processed_rows), 1)


# --- claimed ------------------------------------------------------------------------------


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
    at = utcnow()
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
        if rows_changed(result):
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
                error=gave_up(settings, "the worker stopped before finishing"),
                finished_at=at,
                lease_until=None,
                content=None,
            )
        )
        return False


def gave_up(settings: RegistrySettings, cause: str) -> str:
    return (
        f"gave up after {settings.import_max_attempts} attempts: {cause}. The rows counted in "
        "processed_rows stay applied; ask an administrator to look into it before uploading "
        "the file again"
    )


def pending_jobs(db: Database) -> list[str]:
    at = utcnow()
    with db.session(write=False) as session:
        return list(
            session.scalars(
                select(col(ImportJob.id)).where(_claimable(at)).order_by(col(ImportJob.created_at))
            )
        )


def attempts(db: Database, job_id: str) -> int:
    with db.session(write=False) as session:
        return (
            session.scalar(select(col(ImportJob.attempts)).where(col(ImportJob.id) == job_id)) or 0
        )


def load(db: Database, job_id: str) -> tuple[Job, str, bytes] | None:
    """The claimed job, its file's format and the file; None once it ended (its file deleted
    with its end)."""
    with db.session(write=False) as session:
        record = session.get(ImportJob, job_id)
        if record is None or record.content is None:
            return None
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
            source=record.source,
            edition=record.edition,
            effective_on=(
                effective_on(record.edition) if record.edition else as_utc(record.created_at).date()
            ),
            mapping=dict(record.mapping or {}),
        )
        return job, record.file_format, record.content


def set_total(db: Database, job_id: str, total_rows: int, warnings: list[str]) -> None:
    with db.session() as session:
        session.execute(
            update(ImportJob)
            .where(col(ImportJob.id) == job_id)
            .values(total_rows=total_rows, warnings=warnings or None)
        )


# --- leased, chunk by chunk ---------------------------------------------------------------


def advance(session: Session, job: Job, start: int, end: int, settings: RegistrySettings) -> bool:
    """Move the job past this chunk, only if no other worker did: the row lock this update
    takes also serialises two workers on one job."""
    result = session.execute(
        update(ImportJob)
        .where(col(ImportJob.id) == job.id, col(ImportJob.processed_rows) == start)
        .values(
            processed_rows=end,
            lease_until=utcnow() + timedelta(seconds=settings.import_lease_seconds),
        )
    )
    return bool(rows_changed(result))


def count(session: Session, job: Job, result: ChunkResult) -> None:
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


# --- finished -----------------------------------------------------------------------------


def finish(db: Database, job_id: str, status: str, error: str | None) -> None:
    """End the job and delete its file: the file is a copy of every resident it lists, kept
    for no purpose once the rows are applied (the row report, without cell values, stays). A
    retried upload of the same file is a new job from then on."""
    with db.session() as session:
        session.execute(
            update(ImportJob)
            .where(col(ImportJob.id) == job_id)
            .values(
                status=status, error=error, finished_at=utcnow(), lease_until=None, content=None
            )
        )
