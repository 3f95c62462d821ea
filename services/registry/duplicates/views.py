"""``/v1/residents/duplicates``: review and resolve possible duplicates."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.deps import Reviewing
from services.registry.duplicates import service
from services.registry.duplicates.models import (
    DuplicateGroup,
    DuplicateResolution,
    NikReviewPublic,
    NikReviewResolution,
)
from services.registry.residents.models import ResidentPublic
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses
from shared.kit.routes import page_of

router = APIRouter(prefix="/v1/residents/duplicates", tags=["duplicates"])


@router.get("", responses=problem_responses(403), summary="Possible duplicates to review")
def list_duplicates(desk: Reviewing, page: PageParamsDep) -> Page[DuplicateGroup]:
    return page_of(
        service.list_groups(desk.session, desk.principal, page, desk.settings, desk.purpose)
    )


@router.post(
    "/resolve",
    responses=problem_responses(404, 422),
    summary="Merge possible duplicates into one resident, or dismiss them as different people",
)
def resolve_duplicates(data: DuplicateResolution, desk: Reviewing) -> list[ResidentPublic]:
    return service.resolve(desk.session, desk.principal, data, desk.settings, desk.purpose)


@router.get(
    "/nik-reviews",
    responses=problem_responses(403),
    summary="Registrations held because a resident out of the registrant's sight has the NIK",
)
def list_nik_reviews(desk: Reviewing, page: PageParamsDep) -> Page[NikReviewPublic]:
    return page_of(
        service.list_nik_reviews(desk.session, desk.principal, page, desk.settings, desk.purpose)
    )


@router.post(
    "/nik-reviews/{review_id}/resolve",
    responses=problem_responses(403, 404, 409, 422),
    summary="Merge a held registration into the resident with its NIK, or reject it",
)
def resolve_nik_review(
    review_id: str, data: NikReviewResolution, desk: Reviewing
) -> ResidentPublic:
    return service.resolve_nik_review(
        desk.session, desk.principal, review_id, data, desk.settings, desk.purpose
    )
