"""A household as the API shows it: whoever carries one family card number now."""

from __future__ import annotations

from pydantic import BaseModel

from services.registry.residents.models import ResidentPublic


class HouseholdPublic(BaseModel):
    family_card_number: str
    members: list[ResidentPublic]
    household_size: int
    monthly_income_idr: int | None
    income_per_member_idr: int | None
