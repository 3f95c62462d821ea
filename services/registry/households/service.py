"""The members a caller may see of one family card, with the household's size and income.

The family card number is an attribute of residents, not a key: it changes when a family moves
or splits, so a household is whoever carries the number now. Its income and size are the
household's, not a member's: the latest visit of any member (each visit records the household's
figures) up to a date, else the latest registered figures of a member. They are never summed
across members, so two members visited give the household's income once.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.disclosures.models import Disclosure
from services.registry.follow_ups.models import FollowUp
from services.registry.follow_ups.rules import counts, latest_first, programme_today
from services.registry.households.models import HouseholdFigures, HouseholdPublic
from services.registry.residents import service as residents
from services.registry.residents.models import Resident
from services.registry.settings import RegistrySettings
from shared.kit.problems import NotFound
from shared.kit.time import as_utc
from shared.kit.tokens import Principal

# A family card holds at most a few dozen people; more means bad data, not a bigger family.
MAX_MEMBERS = 100


def read_household(
    session: Session,
    principal: Principal,
    family_card_number: str,
    settings: RegistrySettings,
    purpose: str | None,
    on: date | None = None,
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
    figures = figures_at(session, members, on or programme_today())
    return HouseholdPublic(
        family_card_number=family_card_number,
        members=residents.present(
            session, principal, members, settings, action="household.read", purpose=purpose
        ),
        household_size=figures.household_size or len(members),
        monthly_income_idr=figures.monthly_income_idr,
        income_per_member_idr=figures.income_per_member_idr,
        figures_as_of=figures.as_of,
        figures_follow_up_id=figures.follow_up_id,
    )


def members_of(session: Session, resident: Resident) -> list[Resident]:
    """Everyone on the resident's family card now (the resident alone without a card)."""
    if resident.family_card_number is None:
        return [resident]
    return list(
        session.scalars(
            select(Resident)
            .where(
                col(Resident.family_card_number) == resident.family_card_number,
                col(Resident.merged_into).is_(None),
            )
            .order_by(col(Resident.id))
            .limit(MAX_MEMBERS)
        )
    )


def counting_visits(session: Session, members: list[Resident], on: date) -> list[FollowUp]:
    """The members' visits up to ``on`` that count (``follow_ups.rules.counts``), newest
    first."""
    ids = [member.id for member in members]
    visits = list(
        session.scalars(
            select(FollowUp).where(
                col(FollowUp.resident_id).in_(ids), col(FollowUp.visited_on) <= on
            )
        )
    )
    disclosures: dict[str, list[Disclosure]] = {rid: [] for rid in ids}
    for disclosure in session.scalars(
        select(Disclosure).where(col(Disclosure.resident_id).in_(ids))
    ):
        disclosures[disclosure.resident_id].append(disclosure)
    return latest_first([v for v in visits if counts(v, disclosures[v.resident_id])])


def figures_at(session: Session, members: list[Resident], on: date) -> HouseholdFigures:
    """The household's figures on ``on``: one visit's, or one member's, never a sum."""
    visits = counting_visits(session, members, date.max)
    known = [v for v in visits if v.visited_on <= on]
    if known:
        latest = known[0]
        return HouseholdFigures(
            latest.monthly_income_idr, latest.household_size, latest.visited_on, latest.id
        )
    if visits:
        # Visited only after ``on``: the members' records hold a later visit's figures now,
        # not the household's on that day, which the registry no longer knows.
        return HouseholdFigures(None, None)
    # No visit yet: each figure as the member registered (or edited) last gave it, since
    # every member's record carries the household's figures from the register.
    newest_first = sorted(members, key=lambda m: (as_utc(m.updated_at), m.id), reverse=True)
    income = next(
        (m.monthly_income_idr for m in newest_first if m.monthly_income_idr is not None), None
    )
    size = next((m.household_size for m in newest_first if m.household_size), None)
    return HouseholdFigures(income, size)
