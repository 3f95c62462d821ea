"""Who left the targeted deciles, the one rule the registry (``GET /v1/cohorts/{code}``) and
reporting (``GET /v1/reports/cohorts``) both answer with, so their counts cannot disagree.

A participant enrolled in a targeted decile (at most ``max_decile``) has left the targeted
deciles when the decile it holds now is above them and comes from *later* than the baseline:

- a register edition other than the baseline's, that speaks from after the day the baseline's
  decile speaks from (``baseline_from``: the start of the baseline's edition, or the enrolment
  day when the baseline's decile had no edition). A second import of the baseline's own
  edition is a correction of that edition, not a later one, and never counts;
- or an edit (a decile with no edition), effective after the enrolment day.

The decile held now is the resident's latest by effective day (the registry's decile history,
services/registry/deciles): a participant who left and came back in a newer edition is not
counted, and an older edition imported late does not move it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import StringConstraints

# A cohort's code (``POST /v1/cohorts`` on the registry, ``cohort`` of reporting's targets).
COHORT_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
CohortCode = Annotated[str, StringConstraints(pattern=COHORT_CODE_PATTERN)]


@dataclass(frozen=True, slots=True)
class DecileStamp:
    """A welfare decile with the register edition it comes from and the day it speaks from."""

    welfare_decile: int | None
    edition: str | None
    effective_on: date | None


def baseline_from(edition_starts: date | None, baseline_on: date) -> date:
    """The day the baseline's decile speaks from: its edition's start, else the enrolment day."""
    return edition_starts if edition_starts is not None else baseline_on


def left_targeted_deciles(
    baseline: DecileStamp, baseline_on: date, now: DecileStamp, max_decile: int
) -> bool:
    """``baseline.effective_on`` is ``baseline_from(...)`` (see the module docstring)."""
    if baseline.welfare_decile is None or baseline.welfare_decile > max_decile:
        return False  # not enrolled in a targeted decile: nothing to leave
    if now.welfare_decile is None or now.welfare_decile <= max_decile or now.effective_on is None:
        return False
    if now.edition is not None and now.edition == baseline.edition:
        return False
    since = baseline.effective_on or baseline_on
    if now.effective_on <= since:
        return False
    return now.edition is not None or now.effective_on > baseline_on
