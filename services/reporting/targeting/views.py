"""``GET /v1/reports/targeting``: targeting accuracy per village (inclusion and exclusion
errors, the target group's shares ranked, proposed and placed)."""

from __future__ import annotations

from fastapi import APIRouter

from services.reporting.indicators.access import ReportScopeDep, ReportSessionDep
from services.reporting.targeting import service
from services.reporting.targeting.models import TargetingRow
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/targeting",
    responses=problem_responses(403, 422),
    summary="Targeting accuracy per village",
    description=(
        "Inclusion errors: prioritised residents outside the target group. Exclusion errors: "
        "target-group residents left unranked while a less poor resident of the same village "
        "is ranked. Small cells are suppressed for regional agencies as in every report."
    ),
)
def get_targeting(
    session: ReportSessionDep, scope: ReportScopeDep, page: PageParamsDep
) -> Page[TargetingRow]:
    items, cursor = service.targeting(session, scope, page)
    return Page(items=items, next_cursor=cursor)
