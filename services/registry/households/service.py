"""The members a caller may see of one family card, with the household's size and income.

The family card number is an attribute of residents, not a key: it changes when a family moves
or splits, so a household is whoever carries the number now.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.households.models import HouseholdPublic
from services.registry.residents import service as residents
from services.registry.residents.models import Resident
from services.registry.settings import RegistrySettings
from shared.kit.problems import NotFound
from shared.kit.tokens import Principal

# A family card holds at most a few dozen people; more means bad data, not a bigger family.
MAX_MEMBERS = 100


def read_household(
    session: Session,
    principal: Principal,
    family_card_number: str,
    settings: RegistrySettings,
    purpose: str | None,
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
        members=residents.present(
            session, principal, members, settings, action="household.read", purpose=purpose
        ),
        household_size=size,
        monthly_income_idr=income,
        income_per_member_idr=income // size if income is not None else None,
    )
