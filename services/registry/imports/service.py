"""Bulk import: a job stored with its file, applied by a worker in chunks.

Speed comes from doing per row only what must be per row (validation, in Python) and per chunk
everything that touches the database (``bulk``). A chunk that fails as a whole (a NIK
registered meanwhile by a concurrent request) is redone row by row under savepoints, so one
bad row never sinks its neighbours.

Exactly once: a chunk's residents, its rejections and the job's ``processed_rows`` commit in
one transaction, guarded by ``processed_rows`` still being where the worker found it
(``jobs.advance``); a worker that crashed leaves the job at the last committed chunk, and a
worker that finds another one ahead stops.

The routes call this module only: it runs jobs, and passes on the job's life (``jobs``).
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from services.registry.imports import columns, jobs, layouts
from services.registry.imports.bulk import CONFLICTS, apply_rows
from services.registry.imports.jobs import ChunkResult, Job
from services.registry.imports.jobs import Edition as Edition
from services.registry.imports.jobs import get_job as get_job
from services.registry.imports.jobs import rejections as rejections
from services.registry.imports.jobs import submit as submit
from services.registry.imports.jobs import to_public as to_public
from services.registry.imports.limits import import_limits
from services.registry.imports.parsing import FileRejected, isolated
from services.registry.imports.rows import RowOutcome, validate_row
from services.registry.settings import RegistrySettings
from shared.kit.database import Database
from shared.kit.tokens import Principal

logger = logging.getLogger("sinergi.registry.imports")


def run_job(
    db: Database, job_id: str, settings: RegistrySettings, *, max_chunks: int | None = None
) -> None:
    """Process a job to the end, from where it was left. ``max_chunks`` stops early, leaving
    the job as a crash would (tests of resumption use it)."""
    if not jobs.claim(db, job_id, settings):
        return
    try:
        _run(db, job_id, settings, max_chunks)
    except FileRejected as exc:
        jobs.finish(db, job_id, "failed", str(exc))
    except Exception as exc:
        # Only the error's type is logged or kept: database errors quote the offending values
        # (NIKs).
        logger.error("import job %s stopped: %s", job_id, type(exc).__name__)
        if jobs.attempts(db, job_id) < settings.import_max_attempts:
            raise  # the lease runs out and a worker resumes after the last committed chunk
        cause = f"it stopped on an unexpected error ({type(exc).__name__}) each time"
        jobs.finish(db, job_id, "failed", jobs.gave_up(settings, cause))


def _run(db: Database, job_id: str, settings: RegistrySettings, max_chunks: int | None) -> None:
    loaded = jobs.load(db, job_id)
    if loaded is None:
        return
    job, file_format, content = loaded
    bounds, isolation = import_limits(settings)
    header, data = isolated(file_format, content, bounds, isolation)
    del content, loaded
    layout = layouts.resolve(header, job.mapping)
    if layout.problems:
        raise FileRejected("; ".join(layout.problems))
    outcomes = _validate_all(
        layout.fields, data, job.principal, vectorised=settings.import_fast_path
    )
    jobs.set_total(db, job.id, len(outcomes), layout.warnings)
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
        if _statistics_due(chunks, settings) and not job.dry_run:
            _refresh_statistics(db)
    jobs.finish(db, job.id, "done", None)


def _statistics_due(chunks: int, settings: RegistrySettings) -> bool:
    """Each time the chunk count doubles; on the fast path, whose lookups are one per chunk,
    each time it quadruples (what matters is that the table no longer looks empty)."""
    if chunks & (chunks - 1):
        return False
    return not settings.import_fast_path or chunks.bit_length() % 2 == 1


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
    header: list[str], data: list[list[str]], principal: Principal, *, vectorised: bool = True
) -> list[RowOutcome]:
    """Every row (empty ones are skipped but keep their number); a NIK seen earlier in the
    file rejects the later row, since a row is applied whole and once."""
    outcomes = []
    first_seen: dict[str, int] = {}
    # The common case a column at a time; what it cannot accept for certain, row by row.
    fast = columns.accepted(header, data, principal) if vectorised else [None] * len(data)
    for index, cells in enumerate(data):
        if not cells:
            continue
        outcome = fast[index] or validate_row(
            index + 2, header, layouts.normalised(header, cells), principal
        )
        nik = outcome.values.get("nik")
        if nik is not None:
            if nik in first_seen:
                outcome.values = {}
                outcome.errors.append(("nik", f"repeats the NIK of row {first_seen[nik]}"))
            else:
                first_seen[nik] = outcome.row
        outcomes.append(outcome)
    return outcomes


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
            if not jobs.advance(session, job, start, end, settings):
                return False
            result = apply_rows(session, job, rows, settings)
            jobs.count(session, job, result)
        return True
    except CONFLICTS:
        logger.info("import job %s: chunk at row %s redone row by row", job.id, start)
    with db.session() as session:
        if not jobs.advance(session, job, start, end, settings):
            return False
        result = ChunkResult()
        for outcome in rows:
            try:
                with session.begin_nested():
                    one = apply_rows(session, job, [outcome], settings)
            except CONFLICTS:
                outcome.errors.append(("nik", "was registered by someone else meanwhile"))
                one = apply_rows(session, job, [outcome], settings)
            result.created += one.created
            result.updated += one.updated
            result.unchanged += one.unchanged
            result.rejected += one.rejected
        jobs.count(session, job, result)
    return True
