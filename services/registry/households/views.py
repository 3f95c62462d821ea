"""``GET /v1/households/{family_card_number}``: the members a caller may see of one family card.

The family card number is an attribute of residents, not a key: it changes when a family moves
or splits, so a household is whoever carries the number now.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel
from sqlmodel import col, select

from services.registry import access
from services.registry.deps import PurposeDep, SettingsDep
from services.registry.residents import service
from services.registry.residents.models import Resident, ResidentPublic
from shared.kit.auth import require_scopes
from shared.kit.database import SessionDep
from shared.kit.problems import NotFound, problem_responses
from shared.programme.scopes import RESIDENTS_READ

router = APIRouter(prefix="/v1/households", tags=["households"])
# A family card holds at most a few dozen people; more means bad data, not a bigger family.
MAX_MEMBERS = 100


class HouseholdPublic(BaseModel):
    family_card_number: str
    members: list[ResidentPublic]
    household_size: int
    monthly_income_idr: int | None
    income_per_member_idr: int | None


@router.get(
    "/{family_card_number}",
    responses=problem_responses(403, 404),
    summary="Members of a family card, household size and income per member",
)
def get_household(
    family_card_number: Annotated[str, Path(pattern=r"^\d{16}$")],
    session: SessionDep,
    principal: require_scopes(RESIDENTS_READ),  # type: ignore[valid-type]
    settings: SettingsDep,
    purpose: PurposeDep,
) -> HouseholdPublic:
    members = list(
        session.scalars(
            select(Resident)
            .where(
                col(Resident.family_card_number) == family_card_number,
                access.region_filter(principal),
            )
            .order_by(col(Resident.birth_date), col(Resident.id))
            .limit(MAX_MEMBERS)
        )
    )
    if not members:
        raise NotFound("no household with this family card number in your region")
    size = max([len(members), *(m.household_size or 0 for m in members)])
    incomes = [m.monthly_income_idr for m in members if m.monthly_income_idr is not None]
    income = sum(incomes) if incomes else None
    return HouseholdPublic(
        family_card_number=family_card_number,
        members=service.present(
            session, principal, members, settings, action="household.read", purpose=purpose
        ),
        household_size=size,
        monthly_income_idr=income,
        income_per_member_idr=income // size if income is not None else None,
    )
