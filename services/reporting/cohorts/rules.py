"""A cohort's funnel and outcomes from its participants, pure (no database, no HTTP).

The funnel counts participants (residents enrolled in the cohort), each once however many
placements or visits it has: enrolled -> proposed (any placement proposed) -> placed (a
placement accepted) -> followed up (a visit recorded) -> graduated (independent by the
registry's graduation rule). Next to it: the participants who left the targeted deciles
(shared/programme/cohorts.py) and the median change of income per member from the baseline to
the participant's latest visit.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

MEASURES = ("enrolled", "proposed", "placed", "followed_up", "graduated", "left_targeted_deciles")


@dataclass(frozen=True, slots=True)
class Participant:
    district_code: str
    proposed: bool
    placed: bool
    followed_up: bool
    graduated: bool
    left_targeted_deciles: bool
    # Latest visit's income per member minus the baseline's; None without either.
    income_change_idr: int | None


def counts(people: Iterable[Participant]) -> dict[str, int]:
    rows = list(people)
    return {
        "enrolled": len(rows),
        "proposed": sum(p.proposed for p in rows),
        "placed": sum(p.placed for p in rows),
        "followed_up": sum(p.followed_up for p in rows),
        "graduated": sum(p.graduated for p in rows),
        "left_targeted_deciles": sum(p.left_targeted_deciles for p in rows),
    }


def median_change(people: Iterable[Participant], at_least: int) -> int | None:
    """The median change, or None when fewer than ``at_least`` participants have one: the
    median of two incomes is their mean, and gives a small cell's incomes away."""
    changes = [p.income_change_idr for p in people if p.income_change_idr is not None]
    if not changes or len(changes) < at_least:
        return None
    return int(statistics.median(changes))
