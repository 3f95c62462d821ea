"""``/v1/program/stages`` and ``/v1/program/targets``: read by anyone who reads reports, set
by the programme secretariat (scope ``program:write``) with idempotent PUTs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.reporting.deps import ProgramWriter, ReportsReader, SettingsDep
from services.reporting.indicators.access import ReportSessionDep
from services.reporting.stages import service
from services.reporting.stages.models import (
    StageCode,
    StageList,
    StagePublic,
    StageUpdate,
    TargetList,
    TargetsUpdate,
)
from shared.kit.database import SessionDep
from shared.kit.problems import problem_responses
from shared.programme.cohorts import COHORT_CODE_PATTERN

router = APIRouter(prefix="/v1/program", tags=["program"])
WRITE_RESPONSES = problem_responses(401, 403, 422)


@router.get("/stages", response_model=StageList, summary="The five stages and their progress")
def list_stages(
    principal: ReportsReader, settings: SettingsDep, session: ReportSessionDep
) -> StageList:
    # Regional agencies read every count aggregated and suppressed (DESIGN.md access table).
    threshold = settings.small_cell_threshold if principal.org_type == "regional_agency" else 0
    return StageList(items=service.list_stages(session, threshold))


@router.put(
    "/stages/{code}",
    response_model=StagePublic,
    summary="Set a stage's planned and actual dates and status",
    responses=WRITE_RESPONSES,
)
def put_stage(
    code: StageCode, update: StageUpdate, session: SessionDep, principal: ProgramWriter
) -> StagePublic:
    service.set_stage(session, code, update, principal.org_id)
    return next(stage for stage in service.list_stages(session) if stage.code == code)


@router.get(
    "/targets",
    response_model=TargetList,
    summary="Targets per district, standing (`cohort` null) and per cohort",
    responses=problem_responses(401, 403, 422),
)
def get_targets(
    session: SessionDep,
    _principal: ReportsReader,
    cohort: Annotated[
        str | None, Query(pattern=COHORT_CODE_PATTERN, description="Only this cohort's targets")
    ] = None,
) -> TargetList:
    return TargetList(items=service.list_targets(session, cohort))


@router.put(
    "/targets",
    response_model=TargetList,
    summary="Set targets of the (cohort, district) pairs given (others unchanged)",
    description=(
        "A target without `cohort` is the district's standing target, the one the summary and "
        "the stages compare progress with; a target with `cohort` is that cohort's, which "
        "`GET /v1/reports/cohorts` compares the cohort's funnel with."
    ),
    responses=WRITE_RESPONSES,
)
def put_targets(update: TargetsUpdate, session: SessionDep, principal: ProgramWriter) -> TargetList:
    service.set_targets(session, update.targets, principal.org_id)
    return TargetList(items=service.list_targets(session))
