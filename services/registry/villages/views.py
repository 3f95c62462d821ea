"""``/v1/villages/{village_code}/priority-list``: a village's ranks, set and read in one call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.registry.deps import PriorityCall, ReadCall
from services.registry.villages import service
from services.registry.villages.models import PriorityListIn, PriorityListPublic
from shared.kit.problems import problem_responses
from shared.kit.routes import ProseRoute
from shared.programme.codes import VILLAGE_CODE_PATTERN

# Each route's docstring is its description in the API docs (ProseRoute).
router = APIRouter(prefix="/v1/villages", tags=["villages"], route_class=ProseRoute)
VillagePath = Annotated[str, Path(pattern=VILLAGE_CODE_PATTERN)]


@router.put(
    "/{village_code}/priority-list",
    responses=problem_responses(404, 422),
    summary="Replace the village's priority list, as its meeting agreed",
)
def put_priority_list(
    village_code: VillagePath, data: PriorityListIn, call: PriorityCall
) -> PriorityListPublic:
    """One transaction: the residents listed get ranks 1..n in order, the village's other
    residents lose theirs. A listed id that is not a rankable resident of this village
    changes nothing and is named by its position (`resident_ids.3`)."""
    return service.replace(call.session, call.principal, village_code, data, call.settings)


@router.get(
    "/{village_code}/priority-list",
    responses=problem_responses(404, 422),
    summary="The village's priority list and the meeting it came from",
)
def get_priority_list(village_code: VillagePath, call: ReadCall) -> PriorityListPublic:
    return service.read(call.session, call.principal, village_code)
