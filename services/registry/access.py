"""Who may see and change which residents: DESIGN.md's access matrix, row by row.

Scopes (checked by the aliases in ``deps``) say what an organisation may do at all; these functions
say on which residents. Out-of-region residents answer 404, never 403, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import exists, true
from sqlalchemy.orm import Session
from sqlmodel import col, or_, select

from services.registry.disclosures.models import Disclosure
from services.registry.residents.models import Resident
from shared.kit.problems import Forbidden, NotFound, UnprocessableEntity
from shared.kit.time import utcnow
from shared.kit.tokens import Principal
from shared.programme.organisations import (
    LOCAL_GOVERNMENT_TYPES,
    PROGRAMME_TYPES,
    PROVIDER_TYPES,
)
from shared.programme.regions import within


def is_provider(principal: Principal) -> bool:
    return principal.org_type in PROVIDER_TYPES


def governs(principal: Principal, village_code: str) -> bool:
    """May this organisation register and edit residents of this village?"""
    if principal.org_type in PROGRAMME_TYPES:
        return True
    if principal.org_type in LOCAL_GOVERNMENT_TYPES:
        return principal.region is not None and within(village_code, principal.region)
    return False


def region_filter(principal: Principal) -> Any:
    """The SQL condition for residents an organisation may list; providers list none."""
    if principal.org_type in PROGRAMME_TYPES:
        return true()
    if principal.org_type in LOCAL_GOVERNMENT_TYPES and principal.region:
        return in_region(col(Resident.village_code), principal.region)
    raise Forbidden("this organisation does not list residents")


def in_region(village_code: Any, region: str) -> Any:
    """The SQL condition for a village code column within a region code (itself or below)."""
    return or_(village_code == region, village_code.startswith(region + ".", autoescape=True))


def require_lister(principal: Principal) -> None:
    region_filter(principal)


def consent_allows() -> Any:
    """A disclosure holds only while the resident's consent is not refused or withdrawn: a
    withdrawal closes every disclosure at once, whichever path (edit, import) recorded it, and
    consent given again reopens those still within their validity."""
    return or_(col(Resident.consent_given).is_(None), col(Resident.consent_given).is_(True))


def active_disclosure(session: Session, principal: Principal, resident_id: str) -> Any:
    today = utcnow().date()
    return session.scalars(
        select(Disclosure)
        .join(Resident, col(Resident.id) == col(Disclosure.resident_id))
        .where(
            col(Disclosure.resident_id) == resident_id,
            col(Disclosure.org_id) == principal.org_id,
            col(Disclosure.valid_until) >= today,
            consent_allows(),
        )
        .order_by(col(Disclosure.valid_until).desc())
        .limit(1)
    ).first()


def disclosed_filter(principal: Principal) -> Any:
    today = utcnow().date()
    return consent_allows() & exists().where(
        col(Disclosure.resident_id) == col(Resident.id),
        col(Disclosure.org_id) == principal.org_id,
        col(Disclosure.valid_until) >= today,
    )


def get_visible(
    session: Session, principal: Principal, resident_id: str, *, for_update: bool = False
) -> Resident:
    """The resident when this organisation may see it, else 404 (out of region, undisclosed)."""
    statement = select(Resident).where(col(Resident.id) == resident_id)
    if is_provider(principal):
        statement = statement.where(disclosed_filter(principal))
    elif principal.org_type in PROGRAMME_TYPES or principal.org_type in LOCAL_GOVERNMENT_TYPES:
        statement = statement.where(region_filter(principal))
    else:
        raise NotFound("no such resident")
    if for_update:
        statement = statement.with_for_update()
    resident = session.scalars(statement).first()
    if resident is None:
        raise NotFound("no such resident")
    return resident


def get_disclosed(session: Session, principal: Principal, resident_id: str) -> tuple[Resident, str]:
    """A provider's read: the resident with the purpose of its latest valid disclosure to
    this organisation, in one query (the visibility check and the audit's purpose used to be
    two); undisclosed is 404, as in ``get_visible``."""
    today = utcnow().date()
    found = session.execute(
        select(Resident, col(Disclosure.purpose))
        .join(
            Disclosure,
            (col(Disclosure.resident_id) == col(Resident.id))
            & (col(Disclosure.org_id) == principal.org_id)
            & (col(Disclosure.valid_until) >= today),
        )
        .where(col(Resident.id) == resident_id, consent_allows())
        .order_by(col(Disclosure.valid_until).desc())
        .limit(1)
    ).first()
    if found is None:
        raise NotFound("no such resident")
    return found[0], found[1]


def get_editable(session: Session, principal: Principal, resident_id: str) -> Resident:
    """A resident this organisation governs, locked for the change; others are 404."""
    if principal.org_type not in PROGRAMME_TYPES | LOCAL_GOVERNMENT_TYPES:
        raise NotFound("no such resident")
    return get_visible(session, principal, resident_id, for_update=True)


def check_village_governed(principal: Principal, village_code: str) -> None:
    if not governs(principal, village_code):
        raise UnprocessableEntity("village_code", "is outside the region your organisation governs")


def check_listed(
    resident_ids: list[str],
    found: dict[str, Resident],
    *,
    absent: str,
    usable: Callable[[Resident], bool],
    unusable: str,
) -> None:
    """A list of residents sent whole (a priority list, an enrolment): the first id listed
    twice, not among ``found`` or not ``usable`` is a 422 naming its position
    (``resident_ids.3``), before anything is written."""
    seen: set[str] = set()
    for position, resident_id in enumerate(resident_ids):
        where: list[str | int] = ["body", "resident_ids", position]
        if resident_id in seen:
            raise UnprocessableEntity(where, "is listed twice")
        seen.add(resident_id)
        resident = found.get(resident_id)
        if resident is None:
            raise UnprocessableEntity(where, absent)
        if not usable(resident):
            raise UnprocessableEntity(where, unusable)
