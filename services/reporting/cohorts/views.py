"""``GET /v1/reports/cohorts`` and ``/v1/reports/cohorts/{code}``: each cohort's funnel
(enrolled, proposed, placed, followed up, graduated), its participants who left the targeted
deciles and the median change of income per member, against the cohort's targets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.reporting.cohorts import service
from services.reporting.cohorts.models import CohortReport
from services.reporting.indicators.access import ReportScopeDep, ReportSessionDep
from shared.kit.pagination import Page
from shared.kit.problems import problem_responses
from shared.programme.cohorts import COHORT_CODE_PATTERN

router = APIRouter(prefix="/v1/reports/cohorts", tags=["reports"])
DESCRIPTION = (
    "Participants are residents enrolled in a registry cohort. A participant has left the "
    "targeted deciles when the decile it holds now is above the targeted ones and comes from a "
    "later register edition than its baseline's (or an edit after its enrolment). `targets` are "
    "the cohort's (`PUT /v1/program/targets` with `cohort`). Small cells are suppressed for "
    "regional agencies as in every report."
)


@router.get(
    "",
    responses=problem_responses(403, 404, 422),
    summary="Every cohort's funnel, graduated and left-deciles counts",
    description=DESCRIPTION,
)
def list_cohorts(session: ReportSessionDep, scope: ReportScopeDep) -> Page[CohortReport]:
    # Cohorts are a handful, one per programme year: one page.
    return Page(items=service.reports(session, scope))


@router.get(
    "/{code}",
    responses=problem_responses(403, 404, 422),
    summary="One cohort, in total and per district",
    description=DESCRIPTION,
)
def get_cohort(
    code: Annotated[str, Path(pattern=COHORT_CODE_PATTERN)],
    session: ReportSessionDep,
    scope: ReportScopeDep,
) -> CohortReport:
    [report] = service.reports(session, scope, code)
    return report
