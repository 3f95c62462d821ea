"""``/v1/cohorts``: define a cohort, enrol residents (freezing their baseline), read its
counts; ``/v1/residents/{id}/enrolments``: a resident's cohorts and baselines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from services.registry.cohorts import service
from services.registry.cohorts.models import (
    CohortCreate,
    CohortPublic,
    EnrolmentPublic,
    EnrolmentsIn,
    EnrolmentsResult,
)
from services.registry.deps import PurposeDep, ResidentsReader, ResidentsWriter, SettingsDep
from shared.kit.database import SessionDep
from shared.kit.pagination import Page
from shared.kit.problems import problem_responses
from shared.kit.routes import answer_retry
from shared.programme.cohorts import COHORT_CODE_PATTERN

router = APIRouter(tags=["cohorts"])
CodePath = Annotated[str, Path(pattern=COHORT_CODE_PATTERN)]


@router.post(
    "/v1/cohorts",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "Already defined"}, **problem_responses(403, 409, 422)},
    summary="Define a cohort (secretariat and agencies)",
)
def create_cohort(
    data: CohortCreate, session: SessionDep, principal: ResidentsWriter, response: Response
) -> CohortPublic:
    cohort, created = service.create(session, principal, data)
    answer_retry(response, created)
    return CohortPublic.model_validate(cohort)


@router.get(
    "/v1/cohorts/{code}",
    responses=problem_responses(403, 404),
    summary="A cohort with its counts in your region",
)
def get_cohort(
    code: CodePath, session: SessionDep, principal: ResidentsReader, settings: SettingsDep
) -> CohortPublic:
    return service.read(session, principal, code, settings)


@router.post(
    "/v1/cohorts/{code}/enrolments",
    responses=problem_responses(404, 422),
    summary="Enrol residents, freezing each one's baseline",
    description=(
        "All or nothing: a listed id that is not an enrollable resident in your region is named "
        "by its position (`resident_ids.3`) and nobody is enrolled. Residents already in the "
        "cohort keep the baseline frozen when they were enrolled."
    ),
)
def enrol(
    code: CodePath,
    data: EnrolmentsIn,
    session: SessionDep,
    principal: ResidentsWriter,
    settings: SettingsDep,
) -> EnrolmentsResult:
    return service.enrol(session, principal, code, data, settings)


@router.get(
    "/v1/residents/{resident_id}/enrolments",
    responses=problem_responses(403, 404),
    summary="The resident's cohorts, each with its frozen baseline",
    description="Recorded in the audit trail (`X-Purpose` states why).",
)
def resident_enrolments(
    resident_id: str, session: SessionDep, principal: ResidentsReader, purpose: PurposeDep
) -> Page[EnrolmentPublic]:
    # A resident is in a handful of cohorts at most: one page.
    return Page(items=service.enrolments_of(session, principal, resident_id, purpose))
