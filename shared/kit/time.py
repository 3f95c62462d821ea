"""Time in one way: every datetime Sinergi stores and serves is aware and in UTC.

SQLite hands datetimes back naive (it keeps no offset) while PostgreSQL hands them back
aware; both mean UTC here. One helper and one pydantic type, so no model or reader has to
remember which database it is on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, overload

from pydantic import AfterValidator


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """The same instant, aware and in UTC; a naive datetime is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_utc(value: object) -> datetime | None:
    """A payload's timestamp (ISO 8601 text or a datetime) as aware UTC; empty is None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
"""A datetime field that always serialises aware in UTC, whichever database it was read from."""
