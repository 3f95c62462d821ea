"""``/v1/villages/{village_code}/priority-list``: a village's ranks, set and read in one call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.registry.deps import PriorityEditor, ResidentsReader, SettingsDep
from services.registry.villages import service
from services.registry.villages.models import PriorityListIn, PriorityListPublic
from shared.kit.database import SessionDep
from shared.kit.problems import problem_responses
from shared.programme.codes import VILLAGE_CODE_PATTERN

router = APIRouter(prefix="/v1/villages", tags=["villages"])
VillagePath = Annotated[str, Path(pattern=VILLAGE_CODE_PATTERN)]


@router.put(
    "/{village_code}/priority-list",
    responses=problem_responses(404, 422),
    summary="Replace the village's priority list, as its meeting agreed",
    description=(
        "One transaction: the residents listed get ranks 1..n in order, the village's other "
        "residents lose theirs. A listed id that is not a rankable resident of this village "
        "changes nothing and is named by its position (`resident_ids.3`)."
    ),
)
def put_priority_list(
    village_code: VillagePath,
    data: PriorityListIn,
    session: SessionDep,
    principal: PriorityEditor,
    settings: SettingsDep,
) -> PriorityListPublic:
    return service.replace(session, principal, village_code, data, settings)


@router.get(
    "/{village_code}/priority-list",
    responses=problem_responses(404, 422),
    summary="The village's priority list and the meeting it came from",
)
def get_priority_list(
    village_code: VillagePath, session: SessionDep, principal: ResidentsReader
) -> PriorityListPublic:
    return service.read(session, principal, village_code)
