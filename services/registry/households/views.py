"""``GET /v1/households/{family_card_number}``: the members a caller may see of one family card."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.registry.deps import Reading
from services.registry.households import service
from services.registry.households.models import HouseholdPublic
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/households", tags=["households"])


@router.get(
    "/{family_card_number}",
    responses=problem_responses(403, 404),
    summary="Members of a family card, household size and income per member",
)
def get_household(
    family_card_number: Annotated[str, Path(pattern=r"^\d{16}$")],
    desk: Reading,
    on: Annotated[date | None, Query(description="The household's figures on this day")] = None,
) -> HouseholdPublic:
    return service.read_household(
        desk.session, desk.principal, family_card_number, desk.settings, desk.purpose, on
    )
