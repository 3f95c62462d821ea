"""Import jobs: the uploaded file (until the job ends), where the worker got to, and the rows
it rejected.

``processed_rows`` is the last data row whose outcome is committed; it moves in the same
transaction as the residents of its chunk, so a crash loses no applied row and a retry starts
after it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, LargeBinary
from sqlmodel import Field

from services.registry.tables import Base
from shared.kit.time import UtcDateTime


class ImportJob(Base, table=True):
    __tablename__ = "import_job"

    id: str = Field(primary_key=True, max_length=36)
    org_id: str = Field(max_length=64)
    org_type: str = Field(max_length=30)
    region: str | None = Field(default=None, max_length=13)
    subject: str = Field(max_length=120)
    file_format: str = Field(max_length=4)
    # The uploaded file, deleted when the job ends (done or failed): it is a second copy of
    # every resident it lists, which erasure could not reach. Only the row report stays.
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    content_sha256: str = Field(max_length=64)
    dry_run: bool = False
    # The register edition the file is (DTSEN 2025-07): its deciles are stamped with it, and
    # an older edition never overwrites a newer decile.
    source: str | None = Field(default=None, max_length=40)
    edition: str | None = Field(default=None, max_length=10)
    # Column to field, for a layout the import does not recognise by its headers.
    mapping: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # What the job noticed without rejecting anything (the columns it ignored).
    warnings: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # queued, running, done, failed
    status: str = Field(default="queued", max_length=10, index=True)
    total_rows: int | None = None
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error: str | None = Field(default=None, max_length=500)
    # Times a worker took the job; an error that recurs on every attempt (or a file that kills
    # the worker) fails the job after ``import_max_attempts`` instead of looping forever.
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    lease_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class ImportRejection(Base, table=True):
    __tablename__ = "import_rejection"

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    job_id: str = Field(max_length=36, index=True)
    row: int
    column: str = Field(max_length=40)
    message: str = Field(max_length=300)


class RejectedRow(BaseModel):
    row: int
    column: str
    message: str


class ImportJobPublic(BaseModel):
    id: str
    status: str
    dry_run: bool
    file_format: str
    source: str | None
    edition: str | None
    warnings: list[str]
    total_rows: int | None
    processed_rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    error: str | None
    attempts: int
    created_at: UtcDateTime
    finished_at: UtcDateTime | None
    rejections: list[RejectedRow]
    rejections_truncated: bool
    # A running job's estimate of the time it still needs, from its pace so far.
    seconds_left: float | None = None
