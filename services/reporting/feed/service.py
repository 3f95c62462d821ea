"""The status feed: events in order, each resident named only by an HMAC pseudonym; and the
daily counts a regional agency reads instead (no resident, no timestamp)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Date, cast, func, literal_column, select
from sqlalchemy.orm import Session

from services.reporting.feed.models import (
    StatusCount,
    StatusCountPage,
    StatusEvent,
    StatusEventPage,
    StatusEventPublic,
)
from services.reporting.indicators.rules import primary
from services.reporting.indicators.service import in_region
from shared.kit.database import table_of
from shared.kit.problems import UnprocessableEntity
from shared.kit.time import parse_utc

CURSOR = re.compile(r"^\d{1,19}$")


def pseudonym(key: str, resident_id: str) -> str:
    """HMAC-SHA256 of the resident id: stable for an agency to follow one resident's path,
    impossible to reverse or to recompute without the key."""
    return hmac.new(key.encode(), resident_id.encode(), hashlib.sha256).hexdigest()


def _region(statement: Any, table: Any, region: str | None) -> Any:
    return statement.where(*in_region(region, table.c.district_code, table.c.village_code))


def read_events(
    session: Session, key: str, region: str | None, after: str | None, limit: int
) -> StatusEventPage:
    if after is not None and not CURSOR.match(after):
        raise UnprocessableEntity(["query", "after"], "not a cursor this feed issued")
    start = int(after or 0)
    table = table_of(StatusEvent)
    statement = _region(select(StatusEvent).where(table.c.seq > start), table, region)
    rows = list(session.execute(statement.order_by(table.c.seq).limit(limit + 1)).scalars())
    items = [
        StatusEventPublic(
            cursor=str(row.seq),
            event=row.event,
            resident=pseudonym(key, row.resident_id),
            village_code=row.village_code,
            district_code=row.district_code,
            kind=row.kind,
            occurred_at=row.occurred_at,  # made aware UTC by StatusEventPublic (UtcDateTime)
        )
        for row in rows[:limit]
    ]
    next_cursor = items[-1].cursor if items else str(start)
    return StatusEventPage(items=items, next_cursor=next_cursor, has_more=len(rows) > limit)


def _local_day(session: Session, column: Any, offset_hours: int) -> Any:
    """The calendar day of a UTC timestamp in the regency's time zone, computed by the
    database so the GROUP BY returns one row per village, day and event."""
    if session.get_bind().dialect.name == "postgresql":
        hours: Any = literal_column(f"interval '{int(offset_hours)} hours'")
        shifted = func.timezone("UTC", column) + hours
        return cast(shifted, Date)
    # SQLite keeps the aware UTC timestamps the appliers write as UTC text.
    return func.date(column, f"{int(offset_hours):+d} hours")


def read_daily(
    session: Session,
    region: str | None,
    after: date | None,
    days: int,
    *,
    today: date,
    offset_hours: int,
    suppress_below: int,
) -> StatusCountPage:
    """Counts of events per village and day for the days after ``after`` (from the first event
    when None), at most ``days`` of them, and never today or later: a day is served closed."""
    table = table_of(StatusEvent)
    zone = timezone(timedelta(hours=offset_hours))
    last_closed = today - timedelta(days=1)
    start = after + timedelta(days=1) if after is not None else None
    if start is None:
        first = session.execute(_region(select(func.min(table.c.occurred_at)), table, region))
        # SQLite hands an aggregate back as text, untyped; either database means UTC.
        earliest = parse_utc(first.scalar_one_or_none())
        if earliest is not None:
            start = earliest.astimezone(zone).date()
    threshold = suppress_below if suppress_below > 1 else 0
    if start is None or start > last_closed:
        return StatusCountPage(
            suppressed_below=threshold or None,
            first_day=None,
            last_day=None,
            items=[],
            next_after=after,
            has_more=False,
        )
    end = min(start + timedelta(days=days - 1), last_closed)
    since = datetime.combine(start, time(0), zone).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), time(0), zone).astimezone(UTC)
    day = _local_day(session, table.c.occurred_at, offset_hours).label("day")
    keys = (day, table.c.district_code, table.c.village_code, table.c.event)
    statement = _region(
        select(*keys, func.count().label("events"))
        .where(table.c.occurred_at >= since, table.c.occurred_at < until)
        .group_by(*keys)
        .order_by(*keys),
        table,
        region,
    )
    items = []
    for row in session.execute(statement):
        count = int(row.events)
        # No totals are served beside these cells, so there is nothing to subtract a hidden
        # one from: primary suppression is enough here (the tables' groups live in the cube).
        shown = None if threshold and primary(count, threshold) else count
        items.append(
            StatusCount(
                day=row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day)),
                district_code=row.district_code,
                village_code=row.village_code,
                event=row.event,
                events=shown,
            )
        )
    return StatusCountPage(
        suppressed_below=threshold or None,
        first_day=start,
        last_day=end,
        items=items,
        next_after=end,
        has_more=end < last_closed,
    )
