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
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import text

from services.registry.imports import columns, jobs, layouts, staged
from services.registry.imports.bulk import CONFLICTS, apply_rows
from services.registry.imports.jobs import ChunkResult, Job
from services.registry.imports.jobs import Edition as Edition
from services.registry.imports.jobs import get_job as get_job
from services.registry.imports.jobs import rejections as rejections
from services.registry.imports.jobs import submit as submit
from services.registry.imports.jobs import to_public as to_public
from services.registry.imports.limits import import_limits
from services.registry.imports.parsing import FileRejected, collector_paused, isolated, non_empty
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
    validator = Validator(
        layout.fields,
        data,
        job.principal,
        vectorised=settings.import_fast_path,
        # The set-based writer's staged lines, made here while the writer waits on the
        # database (``staged.Lines``): PostgreSQL only, and only when rows are written.
        stage=settings.import_fast_path and not job.dry_run and not db.is_sqlite,
    )
    jobs.set_total(db, job.id, validator.total, layout.warnings)
    # Chunk k is written by a second thread while this one validates chunk k + 1: the
    # database works on one core while Python checks rows on the other. One chunk is in
    # flight at a time, in order, so the job moves exactly as it did chunk after chunk.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
        in_flight: Future[bool] | None = None
        position = job.start
        chunks = 0
        while position < validator.total:
            if max_chunks is not None and chunks >= max_chunks:
                break
            end = min(position + settings.import_chunk_size, validator.total)
            outcomes = validator.upto(end)
            if in_flight is not None and not in_flight.result():
                return  # another worker is ahead of us
            chunks += 1
            analyse = _statistics_due(chunks, settings) and not job.dry_run
            in_flight = writer.submit(
                _apply_chunk, db, job, outcomes, position, end, settings, analyse=analyse
            )
            position = end
        if in_flight is not None and not in_flight.result():
            return
        if position < validator.total:
            return  # stopped early (max_chunks), as a crash would leave it
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


class Validator:
    """The file's rows validated in order, as far as they are asked for (empty rows are
    skipped but keep their number); a NIK seen earlier in the file rejects the later row,
    since a row is applied whole and once."""

    def __init__(
        self,
        header: list[str],
        data: Sequence[list[str]],
        principal: Principal,
        *,
        vectorised: bool = True,
        stage: bool = False,
    ) -> None:
        self.header = header
        self.stage = stage
        self.data = data
        self.principal = principal
        self.vectorised = vectorised
        self.total = non_empty(data)
        self.outcomes: list[RowOutcome] = []
        self._read = 0  # data rows validated so far
        self._first_seen: dict[str, int] = {}

    def upto(self, count: int, batch: int = 5000) -> list[RowOutcome]:
        """The outcomes of the first ``count`` non-empty rows (the list grows as asked)."""
        while len(self.outcomes) < count and self._read < len(self.data):
            start, self._read = self._read, min(self._read + batch, len(self.data))
            self._validate(start, self._read)
        return self.outcomes

    def _validate(self, start: int, end: int) -> None:
        with collector_paused():
            self._validate_batch(start, list(self.data[start:end]))

    def _validate_batch(self, start: int, data: list[list[str]]) -> None:
        header, principal = self.header, self.principal
        # The common case a column at a time; what it cannot accept for certain, row by row.
        fast = (
            columns.accepted(header, data, principal, first_row=start + 2)
            if self.vectorised
            else [None] * len(data)
        )
        lines = staged.Lines() if self.stage else None
        for index, cells in enumerate(data, start):
            if not cells:
                continue
            outcome = fast[index - start] or validate_row(
                index + 2, header, layouts.normalised(header, cells), principal
            )
            nik = outcome.values.get("nik")
            if nik is not None:
                if nik in self._first_seen:
                    outcome.values = {}
                    outcome.errors.append(
                        ("nik", f"repeats the NIK of row {self._first_seen[nik]}")
                    )
                else:
                    self._first_seen[nik] = outcome.row
            if lines is not None and not outcome.errors and outcome.consent is None:
                outcome.staged = lines.of(outcome)
            self.outcomes.append(outcome)


def _apply_chunk(
    db: Database,
    job: Job,
    outcomes: list[RowOutcome],
    start: int,
    end: int,
    settings: RegistrySettings,
    *,
    analyse: bool = False,
) -> bool:
    """Write one chunk (and refresh the statistics after it when ``analyse``); False when
    another worker is ahead."""
    if not _apply_rows_of(db, job, outcomes[start:end], start, end, settings):
        return False
    if analyse:
        _refresh_statistics(db)
    return True


def _apply_rows_of(
    db: Database,
    job: Job,
    rows: list[RowOutcome],
    start: int,
    end: int,
    settings: RegistrySettings,
) -> bool:
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
