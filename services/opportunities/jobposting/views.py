"""``POST /v1/opportunities/jobposting``: a JobPosting JSON-LD document, upserted by its
``identifier`` like ``PUT /v1/opportunities/external/{external_id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel

from services.opportunities.jobposting.service import map_posting
from services.opportunities.catalogue import service
from services.opportunities.catalogue.models import OpportunityPublic
from services.opportunities.catalogue.views import CatalogueDep, Writer, etag_headers
from shared.kit.database import SessionDep
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/opportunities", tags=["opportunities"])


class JobPostingResult(BaseModel):
    opportunity: OpportunityPublic
    created: bool
    changed: bool
    warnings: list[str]


@router.post(
    "/jobposting",
    response_model=JobPostingResult,
    status_code=200,
    summary="Create or replace from a schema.org JobPosting (JSON-LD)",
    responses={201: {"model": JobPostingResult}, **problem_responses(403, 409, 422)},
)
def upsert_jobposting(
    session: SessionDep,
    principal: Writer,
    catalogue: CatalogueDep,
    response: Response,
    posting: Annotated[
        dict[str, Any],
        Body(description="A JobPosting document (application/ld+json or application/json)"),
    ],
) -> JobPostingResult:
    mapped = map_posting(posting, catalogue.regency_code)
    outcome = service.upsert_external(
        session, principal, mapped.external_id, mapped.fields, catalogue
    )
    response.status_code = 201 if outcome.created else 200
    response.headers.update(etag_headers(outcome.opportunity))
    return JobPostingResult(
        opportunity=outcome.opportunity,
        created=outcome.created,
        changed=outcome.changed,
        warnings=mapped.warnings,
    )
