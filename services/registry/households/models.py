"""A household as the API shows it: whoever carries one family card number now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from services.registry.residents.models import ResidentPublic


@dataclass(frozen=True, slots=True)
class HouseholdFigures:
    """A household's income and size at a date: the latest counting visit of any member up to
    that date (``follow_up_id``, ``as_of``), else the latest registered figures of a member."""

    monthly_income_idr: int | None
    household_size: int | None
    as_of: date | None = None
    follow_up_id: str | None = None

    @property
    def income_per_member_idr(self) -> int | None:
        if self.monthly_income_idr is None or not self.household_size:
            return None
        return self.monthly_income_idr // self.household_size


class HouseholdPublic(BaseModel):
    family_card_number: str
    members: list[ResidentPublic]
    household_size: int
    monthly_income_idr: int | None
    income_per_member_idr: int | None
    # The visit the figures come from and its date; None: from the registered figures.
    figures_as_of: date | None = None
    figures_follow_up_id: str | None = None
