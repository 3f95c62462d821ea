"""Follow-up visits, and the independence rule they drive.

A resident is ``independent`` when the latest run of consecutive follow-ups above the poverty
line (income per household member) has at least ``independence_follow_ups`` visits spanning at
least ``independence_min_days``; a later visit below the line reverts it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String, literal, tuple_
from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.follow_ups.models import FollowUp, FollowUpCreate, FollowUpVisit
from services.registry.residents import service as residents
from services.registry.residents.models import Resident, as_utc
from services.registry.settings import RegistrySettings
from shared.pagination import PageParams, decode_cursor, encode_cursor
from shared.problems import UnprocessableEntity
from shared.tokens import Principal


def _find(session: Session, resident_id: str, org_id: str, data: FollowUpCreate) -> FollowUp | None:
    return session.scalars(
        select(FollowUp).where(
            col(FollowUp.resident_id) == resident_id,
            col(FollowUp.visited_on) == data.visited_on,
            col(FollowUp.organisation_id) == org_id,
        )
    ).first()


def record(
    session: Session,
    principal: Principal,
    resident_id: str,
    data: FollowUpCreate,
    settings: RegistrySettings,
) -> tuple[FollowUp, Resident, bool]:
    """The follow-up, its resident and whether it is new (a retried visit is not recorded
    twice)."""
    resident = access.get_visible(session, principal, resident_id, for_update=True)
    existing = _find(session, resident_id, principal.org_id, data)
    if existing is not None:
        return existing, resident, False
    follow_up = FollowUp(
        id=residents.new_id(),
        resident_id=resident_id,
        organisation_id=principal.org_id,
        recorded_by=principal.subject,
        recorded_at=residents.now_utc(),
        income_per_member_idr=data.monthly_income_idr // data.household_size,
        **data.model_dump(),
    )
    session.add(follow_up)
    session.flush()
    latest = _is_latest(session, follow_up)
    fields = []
    if latest:
        for name in ("employment_status", "monthly_income_idr", "household_size"):
            if getattr(resident, name) != getattr(data, name):
                setattr(resident, name, getattr(data, name))
                fields.append(name)
    payload = {
        "id": follow_up.id,
        "visited_on": follow_up.visited_on.isoformat(),
        "employment_status": follow_up.employment_status,
        "monthly_income_idr": follow_up.monthly_income_idr,
        "household_size": follow_up.household_size,
        "income_per_member_idr": follow_up.income_per_member_idr,
        "organisation_id": follow_up.organisation_id,
    }
    residents.changed(
        session, principal, resident, "follow_up", fields, settings, follow_up=payload
    )
    _settle_independence(session, principal, resident, settings)
    return follow_up, resident, True


def to_visit(follow_up: FollowUp) -> FollowUpVisit:
    return FollowUpVisit(
        id=follow_up.id,
        resident_id=follow_up.resident_id,
        visited_on=follow_up.visited_on,
        employment_status=follow_up.employment_status,
        monthly_income_idr=follow_up.monthly_income_idr,
        household_size=follow_up.household_size,
        income_per_member_idr=follow_up.income_per_member_idr,
        notes=follow_up.notes,
        organisation_id=follow_up.organisation_id,
        recorded_at=as_utc(follow_up.recorded_at),
    )


def _after(cursor: str) -> tuple[date, str]:
    """The (visited_on, id) a page ends at; anything else is not a cursor we issued."""
    visited_on, follow_up_id = decode_cursor(cursor, 2)
    try:
        return date.fromisoformat(visited_on), str(follow_up_id)
    except (TypeError, ValueError) as exc:
        raise UnprocessableEntity(["query", "cursor"], "not a cursor this endpoint issued") from exc


def list_for_resident(
    session: Session, principal: Principal, resident_id: str, params: PageParams
) -> tuple[list[FollowUpVisit], str | None]:
    """The resident's visits, newest first; a resident out of reach is 404, as when read.

    Keyset on (visited_on, id) descending: ``shared.pagination.paginate`` only walks
    ascending, and the latest visits are the ones a case worker looks for."""
    access.get_visible(session, principal, resident_id)
    order = (col(FollowUp.visited_on), col(FollowUp.id))
    statement = select(FollowUp).where(col(FollowUp.resident_id) == resident_id)
    if params.cursor:
        visited_on, follow_up_id = _after(params.cursor)
        bound = (literal(visited_on, type_=Date()), literal(follow_up_id, type_=String()))
        statement = statement.where(tuple_(*order) < tuple_(*bound))
    rows = list(
        session.scalars(
            statement.order_by(*(column.desc() for column in order)).limit(params.limit + 1)
        )
    )
    cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        cursor = encode_cursor([rows[-1].visited_on.isoformat(), rows[-1].id])
    return [to_visit(row) for row in rows], cursor


def _is_latest(session: Session, follow_up: FollowUp) -> bool:
    later = session.scalars(
        select(col(FollowUp.id)).where(
            col(FollowUp.resident_id) == follow_up.resident_id,
            col(FollowUp.visited_on) > follow_up.visited_on,
        )
    ).first()
    return later is None


def independent_by_follow_ups(visits: list[FollowUp], settings: RegistrySettings) -> bool:
    run: list[FollowUp] = []
    # as_utc: on SQLite, visits loaded from the database are naive while one just recorded
    # is aware, and two visits on one day must still compare.
    for visit in sorted(visits, key=lambda v: (v.visited_on, as_utc(v.recorded_at))):
        if visit.income_per_member_idr > settings.poverty_line_idr:
            run.append(visit)
        else:
            run = []
    if len(run) < settings.independence_follow_ups:
        return False
    return (run[-1].visited_on - run[0].visited_on).days >= settings.independence_min_days


def _settle_independence(
    session: Session, principal: Principal, resident: Resident, settings: RegistrySettings
) -> None:
    if resident.status == "archived":
        return
    visits = list(session.scalars(select(FollowUp).where(col(FollowUp.resident_id) == resident.id)))
    independent = independent_by_follow_ups(visits, settings)
    if independent and resident.status != "independent":
        resident.status = "independent"
        resident.independent_at = residents.now_utc()
        residents.changed(session, principal, resident, "independent", ["status"], settings)
    elif not independent and resident.status == "independent":
        resident.status = "verified" if resident.verified_at else "registered"
        resident.independent_at = None
        residents.changed(session, principal, resident, "not_independent", ["status"], settings)
