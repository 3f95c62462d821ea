"""Pure rules of visits: the programme's calendar day, and whether a stored visit counts.

No session and no I/O, so the households and graduation domains judge visits by the same rules
the follow-ups domain records them with."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.registry.disclosures.models import Disclosure
from services.registry.follow_ups.models import FollowUp
from shared.kit.time import as_utc, utcnow
from shared.programme.organisations import PROVIDER_TYPES

# The programme's time zone (Kabupaten Kotabaru, WITA, UTC+8). A rule of the programme, not
# a setting: "today" for a visit is the regency's today, which is a day ahead of UTC's every
# morning before 08:00 local time. Needs the IANA database: tzdata is a dependency.
PROGRAMME_TIME_ZONE = ZoneInfo("Asia/Makassar")


def programme_date(moment: datetime) -> date:
    """The regency's calendar date at ``moment`` (naive moments are UTC, as SQLite returns
    them)."""
    return as_utc(moment).astimezone(PROGRAMME_TIME_ZONE).date()


def programme_today() -> date:
    return programme_date(utcnow())


def placement_start(disclosure: Disclosure) -> date:
    """The earliest day a provider's visit about this placement may be dated.

    The registry does not learn when a placement starts: matching's disclosure carries the
    placement's id and how long it is valid, not its start date. What it has is when the
    disclosure was recorded, right after the resident accepted the placement (later if
    matching had to retry), and no placement starts before it is accepted, so a visit dated
    earlier cannot be about this placement. Should the disclosure ever carry the start date,
    that is the bound to use instead."""
    return programme_date(disclosure.created_at)


def counts(visit: FollowUp, disclosures: list[Disclosure]) -> bool:
    """Whether a stored visit keeps the rules a new one is checked against, so the graduation
    rule and the household's figures rest on it. Visits recorded before the rules (and
    their columns) existed are judged by what they hold: dated after the day they were
    recorded is a forgery, and one by an organisation holding a disclosure of the resident (a
    provider: agencies get none) names no placement, so it cannot count."""
    if visit.visited_on > programme_date(visit.recorded_at):
        return False
    if visit.org_type is None:
        return not any(d.org_id == visit.organisation_id for d in disclosures)
    if visit.org_type not in PROVIDER_TYPES:
        return True
    return any(
        d.org_id == visit.organisation_id
        and d.placement_id == visit.placement_id
        and visit.visited_on >= placement_start(d)
        for d in disclosures
    )


def latest_first(visits: list[FollowUp]) -> list[FollowUp]:
    """Newest visit first; two on one day by when they were recorded (as_utc: SQLite returns
    naive times, a visit just recorded is aware)."""
    return sorted(visits, key=lambda v: (v.visited_on, as_utc(v.recorded_at)), reverse=True)
