"""``POST /v1/opportunities/jobposting``: a JobPosting JSON-LD document, upserted by its
``identifier`` like ``PUT /v1/opportunities/external/{external_id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from services.opportunities.deps import Publishing, answer_upsert
from services.opportunities.jobposting import service
from services.opportunities.jobposting.models import JobPostingResult
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/opportunities", tags=["opportunities"])


@router.post(
    "/jobposting",
    response_model=JobPostingResult,
    status_code=200,
    summary="Create or replace from a schema.org JobPosting (JSON-LD)",
    responses={201: {"model": JobPostingResult}, **problem_responses(403, 409, 422)},
)
def upsert_jobposting(
    ctx: Publishing,
    response: Response,
    posting: Annotated[
        dict[str, Any],
        Body(description="A JobPosting document (application/ld+json or application/json)"),
    ],
) -> JobPostingResult:
    result = service.upsert_posting(ctx.session, ctx.principal, posting, ctx.catalogue)
    answer_upsert(response, result.opportunity, created=result.created)
    return result
