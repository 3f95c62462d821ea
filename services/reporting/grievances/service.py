"""Complaints by category and their SLA breaches, as of a day: a complaint is breached when its
due day has passed while it was still open, or when it was closed after its due day.
Regional agencies see small counts hidden as every other report hides them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from services.reporting.grievances.models import CategoryCounts, GrievanceCounts, GrievanceReport
from services.reporting.indicators.models import ReportScope
from services.reporting.indicators.rules import Group, suppress
from services.reporting.indicators.service import in_region
from services.reporting.readmodel.models import GrievanceFact

# The registry's categories (issue 20), so an empty one still shows as zero.
CATEGORIES = ("targeting", "placement", "payment", "data", "conduct", "other")
METRICS = ("opened", "open", "breached")
TOTAL = "total"


def _local_day(value: datetime, offset_hours: float) -> date:
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(timezone(timedelta(hours=offset_hours))).date()


def report(session: Session, scope: ReportScope, offset_hours: float) -> GrievanceReport:
    g = GrievanceFact
    statement = select(col(g.category), col(g.due_on), col(g.opened_at), col(g.closed_at)).where(
        *in_region(scope.region, col(g.district_code), col(g.village_code))
    )
    if scope.provider_org_id is not None:
        statement = statement.where(col(g.provider_org_id) == scope.provider_org_id)
    counts: dict[tuple[str, str], int] = {}
    day = scope.as_of
    for category, due_on, opened_at, closed_at in session.execute(statement):
        if _local_day(opened_at, offset_hours) > day:
            continue
        closed_on = _local_day(closed_at, offset_hours) if closed_at is not None else None
        if closed_on is not None and closed_on > day:
            closed_on = None  # closed after the day asked about: open on it
        breached = (closed_on is None and day > due_on) or (
            closed_on is not None and closed_on > due_on
        )
        for key in (category, TOTAL):
            counts[(key, "opened")] = counts.get((key, "opened"), 0) + 1
            counts[(key, "open")] = counts.get((key, "open"), 0) + (closed_on is None)
            counts[(key, "breached")] = counts.get((key, "breached"), 0) + breached
    categories = sorted({c for c, _ in counts if c != TOTAL} | set(CATEGORIES))
    groups = [
        Group((TOTAL, metric), [(category, metric) for category in categories])
        for metric in METRICS
    ]
    hidden = suppress(counts, groups, scope.suppress_below)

    def shown(key: str, metric: str) -> int | None:
        return None if (key, metric) in hidden else counts.get((key, metric), 0)

    return GrievanceReport(
        as_of=day,
        region=scope.region,
        total=GrievanceCounts(**{metric: shown(TOTAL, metric) for metric in METRICS}),
        by_category=[
            CategoryCounts(category=c, **{metric: shown(c, metric) for metric in METRICS})
            for c in categories
        ],
    )
