"""The cohort report's rows (``GET /v1/reports/cohorts`` and ``/v1/reports/cohorts/{code}``)."""

from __future__ import annotations

from pydantic import BaseModel


class CohortTargets(BaseModel):
    """The cohort's targets (``PUT /v1/program/targets`` with ``cohort``) for the districts
    counted, and the progress towards them."""

    residents_to_place: int
    residents_to_become_independent: int
    placement_progress: float | None
    graduation_progress: float | None


class CohortRow(BaseModel):
    cohort: str
    district_code: str | None  # None: the cohort over every district counted
    # The funnel, in its order; counts are None where small-cell suppression hides them.
    enrolled: int | None
    proposed: int | None
    placed: int | None
    followed_up: int | None
    graduated: int | None
    left_targeted_deciles: int | None
    median_income_per_member_change_idr: int | None
    targets: CohortTargets | None


class CohortReport(CohortRow):
    districts: list[CohortRow]
