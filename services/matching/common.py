"""Small helpers every domain of the matching service uses."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every datetime we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def iso(value: datetime | date | None) -> str | None:
    if isinstance(value, datetime):
        value = aware(value)
    return value.isoformat() if value is not None else None


def parse_datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return aware(value)
    return aware(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def parse_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def ts_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


def json_column(*, nullable: bool = False) -> Any:
    return Column(JSON, nullable=nullable)
