"""Routes of the catalogue: they read the request, call the service and shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Response
from fastapi.responses import JSONResponse

from services.opportunities.catalogue import service
from services.opportunities.catalogue.models import (
    EXTERNAL_ID_PATTERN,
    BatchRequest,
    BatchResponse,
    CloseRequest,
    ListFilters,
    Opportunity,
    OpportunityCreate,
    OpportunityFields,
    OpportunityPublic,
    OpportunityUpdate,
)
from services.opportunities.deps import (
    Browsing,
    CatalogueDep,
    Publishing,
    Reader,
    answer_one,
    answer_upsert,
    etag_headers,
)
from shared.kit.database import DatabaseDep, SessionDep
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import PreconditionFailed, PreconditionRequired, problem_responses

router = APIRouter(prefix="/v1/opportunities", tags=["opportunities"])


def visible_opportunity(
    session: SessionDep,
    principal: Reader,
    opportunity_id: Annotated[str, Path(max_length=36)],
) -> Opportunity:
    return service.get_visible(session, principal, opportunity_id)


VisibleOpportunity = Annotated[Opportunity, Depends(visible_opportunity)]


@router.post(
    "",
    response_model=OpportunityPublic,
    status_code=201,
    summary="Publish an opportunity",
    responses=problem_responses(403, 409, 422),
)
def create_opportunity(
    ctx: Publishing,
    body: OpportunityCreate,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retry safely: the same key and body return the first response",
        ),
    ] = None,
) -> Any:
    stored = service.publish(ctx.session, ctx.principal, body, ctx.catalogue, idempotency_key)
    headers = etag_headers(OpportunityPublic.model_validate(stored.body))
    if stored.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)


@router.put(
    "/external/{external_id:path}",
    response_model=OpportunityPublic,
    summary="Create or replace by the provider's own reference (idempotent)",
    responses={201: {"model": OpportunityPublic}, **problem_responses(403, 409, 422)},
)
def put_external(
    ctx: Publishing,
    response: Response,
    external_id: Annotated[str, Path(min_length=1, max_length=200, pattern=EXTERNAL_ID_PATTERN)],
    body: OpportunityFields,
) -> OpportunityPublic:
    outcome = service.upsert_external(ctx.session, ctx.principal, external_id, body, ctx.catalogue)
    answer_upsert(response, outcome.opportunity, created=outcome.created)
    return outcome.opportunity


@router.post(
    "/batch",
    response_model=BatchResponse,
    summary="Up to 500 upserts by external_id, a result per item",
    responses=problem_responses(403, 413, 422),
)
def batch(
    ctx: Publishing,
    body: BatchRequest,
) -> BatchResponse:
    return service.batch_upsert(ctx.session, ctx.principal, body.items, ctx.catalogue)


@router.get("", response_model=Page[OpportunityPublic], summary="Browse the catalogue")
def list_opportunities(
    ctx: Browsing,
    page: PageParamsDep,
    filters: Annotated[ListFilters, Depends()],
) -> Page[OpportunityPublic]:
    items, cursor = service.list_visible(ctx.session, ctx.principal, filters, page, ctx.catalogue)
    return Page[OpportunityPublic](items=items, next_cursor=cursor)


@router.get(
    "/{opportunity_id}",  # noqa: FAST003 - read by the VisibleOpportunity dependency
    response_model=OpportunityPublic,
    summary="One opportunity, with its ETag",
    responses=problem_responses(404),
)
def get_opportunity(
    row: VisibleOpportunity,
    db: DatabaseDep,
    catalogue: CatalogueDep,
    response: Response,
) -> OpportunityPublic:
    return answer_one(response, service.read(db, row, catalogue.now))


def _check_if_match(if_match: str | None, row: Opportunity) -> None:
    if if_match is None:
        raise PreconditionRequired("send If-Match with the ETag of the version you edited")
    current = service.etag(row)
    offered = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" not in offered and current not in offered:
        raise PreconditionFailed(
            f"the opportunity changed since you read it (now version {row.version}); "
            "GET it again and reapply your change"
        )


@router.patch(
    "/{opportunity_id}",  # noqa: FAST003 - read by the VisibleOpportunity dependency
    response_model=OpportunityPublic,
    summary="Change some fields (If-Match required)",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
def patch_opportunity(
    ctx: Publishing,
    row: VisibleOpportunity,
    body: OpportunityUpdate,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> OpportunityPublic:
    _check_if_match(if_match, service.lock(ctx.session, row))
    row = service.update(ctx.session, ctx.principal, row, body, ctx.catalogue)
    return answer_one(response, service.to_public(row, ctx.catalogue.now))


@router.post(
    "/{opportunity_id}/close",  # noqa: FAST003 - read by the VisibleOpportunity dependency
    response_model=OpportunityPublic,
    summary="Close (or cancel) an opportunity",
    responses=problem_responses(403, 404, 409),
)
def close_opportunity(
    ctx: Publishing,
    row: VisibleOpportunity,
    response: Response,
    body: CloseRequest | None = None,
) -> OpportunityPublic:
    cancel = body.cancel if body else False
    service.lock(ctx.session, row)
    row = service.close(ctx.session, ctx.principal, row, cancel=cancel, now=ctx.catalogue.now)
    return answer_one(response, service.to_public(row, ctx.catalogue.now))
