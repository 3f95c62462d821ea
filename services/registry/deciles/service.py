"""A resident's decile history, read as the resident is: in the reader's sight only, and
audited with its purpose."""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.audit.service import record_access
from services.registry.deciles.models import DecileEntry, ResidentDecile
from shared.kit.database import table_of
from shared.kit.pagination import PageParams, paginate
from shared.kit.problems import Forbidden
from shared.kit.tokens import Principal

ACTION = "resident.deciles"


def history(
    session: Session,
    principal: Principal,
    resident_id: str,
    params: PageParams,
    *,
    purpose: str | None,
) -> tuple[list[DecileEntry], str | None]:
    """Every decile the resident was given, in the order they were recorded. A resident out
    of the reader's sight is 404, as a missing one; providers see no decile of anyone."""
    if access.is_provider(principal):
        raise Forbidden("this organisation does not read residents' deciles")
    access.get_visible(session, principal, resident_id)
    statement = select(ResidentDecile).where(col(ResidentDecile.resident_id) == resident_id)
    rows, cursor = paginate(session, statement, [table_of(ResidentDecile).c.id], params)
    record_access(
        session, principal, [resident_id], action=ACTION, purpose=purpose, stated_purpose=purpose
    )
    return [DecileEntry.model_validate(row, from_attributes=True) for row in rows], cursor
