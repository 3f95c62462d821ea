"""``/v1/reports/grievances``: complaints by category and their SLA breaches."""

from __future__ import annotations

from fastapi import APIRouter

from services.reporting.deps import SettingsDep
from services.reporting.grievances import service
from services.reporting.grievances.models import GrievanceReport
from services.reporting.indicators.access import ReportScopeDep, ReportSessionDep
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/grievances",
    response_model=GrievanceReport,
    responses=problem_responses(401, 403, 404, 422),
    summary="Complaints by category, open and past their SLA, as of a day",
)
def get_grievances(
    session: ReportSessionDep, scope: ReportScopeDep, settings: SettingsDep
) -> GrievanceReport:
    return service.report(session, scope, settings.utc_offset_hours)
