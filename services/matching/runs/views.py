"""Starting a round and reading its status, statistics and proposals (admin and agencies)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from services.matching.access import require_org_types
from services.matching.deps import Consulting, Running
from services.matching.runs import service
from services.matching.runs.models import ProposalPublic, RunCreate, RunPublic
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses
from shared.kit.tokens import Principal
from shared.programme.organisations import PROGRAMME_TYPES

router = APIRouter(prefix="/v1/matching/runs", tags=["matching"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunPublic,
    responses=problem_responses(403, 422),
    summary="Start a matching round; it runs in the background",
)
def start_run(
    body: RunCreate,
    request: Request,
    response: Response,
    starting: Running,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> RunPublic:
    require_org_types(starting.principal, PROGRAMME_TYPES, "start matching runs")
    run, _created = service.create_run(
        starting.session, starting.principal, body, starting.settings, idempotency_key
    )
    response.headers["Location"] = f"/v1/matching/runs/{run.id}"
    wake = getattr(request.app.state, "wake_worker", None)
    if wake is not None:
        wake()
    return service.to_public(run)


def _reader(principal: Principal) -> None:
    require_org_types(principal, PROGRAMME_TYPES, "read matching runs")


@router.get("/{run_id}", response_model=RunPublic, responses=problem_responses(403, 404))
def read_run(run_id: uuid.UUID, lookup: Consulting) -> RunPublic:
    _reader(lookup.principal)
    return service.to_public(service.get_run(lookup.session, run_id))


@router.get(
    "/{run_id}/proposals",
    response_model=Page[ProposalPublic],
    responses=problem_responses(403, 404),
)
def read_proposals(
    run_id: uuid.UUID, page: PageParamsDep, lookup: Consulting
) -> Page[ProposalPublic]:
    _reader(lookup.principal)
    items, next_cursor = service.list_proposals(lookup.session, run_id, page)
    return Page(items=items, next_cursor=next_cursor)
