"""The status feed: events in order, each resident named only by an HMAC pseudonym."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.reporting.feed.models import StatusEvent, StatusEventPage, StatusEventPublic
from shared.problems import UnprocessableEntity
from shared.regions import level_of

CURSOR = re.compile(r"^\d{1,19}$")


def pseudonym(key: str, resident_id: str) -> str:
    """HMAC-SHA256 of the resident id: stable for an agency to follow one resident's path,
    impossible to reverse or to recompute without the key."""
    return hmac.new(key.encode(), resident_id.encode(), hashlib.sha256).hexdigest()


def read_events(
    session: Session, key: str, region: str | None, after: str | None, limit: int
) -> StatusEventPage:
    if after is not None and not CURSOR.match(after):
        raise UnprocessableEntity(["query", "after"], "not a cursor this feed issued")
    start = int(after or 0)
    table = StatusEvent.__table__  # type: ignore[attr-defined]
    statement = select(StatusEvent).where(table.c.seq > start)
    if region is not None:
        if level_of(region) == "village":
            statement = statement.where(table.c.village_code == region)
        elif level_of(region) == "district":
            statement = statement.where(table.c.district_code == region)
        else:
            statement = statement.where(table.c.district_code.like(region + ".%"))
    rows = list(session.execute(statement.order_by(table.c.seq).limit(limit + 1)).scalars())
    items = [
        StatusEventPublic(
            cursor=str(row.seq),
            event=row.event,
            resident=pseudonym(key, row.resident_id),
            village_code=row.village_code,
            district_code=row.district_code,
            kind=row.kind,
            # SQLite gives the stored UTC time back naive; the contract is an RFC 3339 time.
            occurred_at=row.occurred_at.replace(tzinfo=row.occurred_at.tzinfo or UTC),
        )
        for row in rows[:limit]
    ]
    next_cursor = items[-1].cursor if items else str(start)
    return StatusEventPage(items=items, next_cursor=next_cursor, has_more=len(rows) > limit)
