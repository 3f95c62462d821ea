"""What a report may count: the scope ``access.py`` resolves once per request and every query
of the indicators, the exports and the stages is cut to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from shared.kit.time import as_utc


@dataclass(frozen=True, slots=True)
class ReportScope:
    """The rows a report may count, and how it is shown."""

    region: str | None  # a region code whose residents, placements and villages count
    provider_org_id: str | None  # only this provider's opportunities and placements
    residents_visible: bool
    suppress_below: int  # cells counting 1..n-1 residents are hidden; 0 shows everything
    cutoff: datetime | None  # count what happened before this instant; None: everything
    as_of: date

    def happened(self, moment: datetime | None) -> bool:
        """Whether an event at ``moment`` (None: it has not happened) counts: before the cutoff.
        SQLite hands the times back naive (UTC); the cutoff is aware."""
        return moment is not None and (self.cutoff is None or as_utc(moment) < self.cutoff)
