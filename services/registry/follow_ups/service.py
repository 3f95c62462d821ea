"""Follow-up visits, and the graduation rule they drive (``graduation.rules``): after each
visit the resident's household is judged, and its members in the programme graduate (status
``independent``) or, when a later visit breaks the rule, lose it.

Who records and reads which visits: a visit is dated no later than today in the programme's
time zone. A provider records visits only about a placement of its own that was disclosed to
it for this resident, dated no earlier than that placement's start, and reads back only the
visits about its placements disclosed to it now; agencies (who may record a visit late, with
its real past date) read them all. Every read that returns visits is audited.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String, literal, tuple_
from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.audit.service import record_access
from services.registry.disclosures.models import Disclosure
from services.registry.follow_ups import plan
from services.registry.follow_ups.models import FollowUp, FollowUpCreate, FollowUpVisit
from services.registry.follow_ups.rules import counts, placement_start, programme_today
from services.registry.graduation import service as graduation
from services.registry.residents import service as residents
from services.registry.residents.models import Resident
from services.registry.settings import RegistrySettings
from shared.kit.pagination import PageParams, decode_cursor, encode_cursor
from shared.kit.problems import Conflict, UnprocessableEntity
from shared.kit.time import utcnow
from shared.kit.tokens import Principal


def _disclosed_now() -> date:
    # Disclosure validity, as access.py judges it (valid_until is compared to UTC's date).
    return utcnow().date()


def _own_placement(
    session: Session, principal: Principal, resident_id: str, placement_id: str
) -> Disclosure | None:
    """The caller's valid disclosure of this resident for this placement."""
    return session.scalars(
        select(Disclosure).where(
            col(Disclosure.resident_id) == resident_id,
            col(Disclosure.org_id) == principal.org_id,
            col(Disclosure.placement_id) == placement_id,
            col(Disclosure.valid_until) >= _disclosed_now(),
        )
    ).first()


def _check_visit(
    session: Session, principal: Principal, resident_id: str, data: FollowUpCreate
) -> None:
    """The rules of a new visit's date and placement; a broken one is 422 naming its field."""
    if data.visited_on > programme_today():
        raise UnprocessableEntity(
            "visited_on", "is later than today in the programme's time zone (Asia/Makassar)"
        )
    if access.is_provider(principal):
        if data.placement_id is None:
            raise UnprocessableEntity(
                "placement_id", "is required: a provider records visits about its placements"
            )
        disclosure = _own_placement(session, principal, resident_id, data.placement_id)
        if disclosure is None:
            raise UnprocessableEntity(
                "placement_id", "is not a placement of this resident with your organisation"
            )
        if data.visited_on < placement_start(disclosure):
            raise UnprocessableEntity("visited_on", "is earlier than the placement's start")
    elif data.placement_id is not None:
        # An agency may say which placement it visited about (the provider then reads the
        # visit too), but only a placement the registry knows for this resident.
        known = session.scalars(
            select(col(Disclosure.id)).where(
                col(Disclosure.resident_id) == resident_id,
                col(Disclosure.placement_id) == data.placement_id,
            )
        ).first()
        if known is None:
            raise UnprocessableEntity("placement_id", "is not a placement of this resident")


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
    _check_visit(session, principal, resident_id, data)
    existing = _find(session, resident_id, principal.org_id, data)
    if existing is not None:
        if existing.placement_id != data.placement_id:
            # One visit per resident, day and organisation: a second placement's visit on
            # that day would otherwise silently answer with the first one.
            raise Conflict("your organisation already recorded a visit of this resident that day")
        return existing, resident, False
    follow_up = FollowUp(
        id=residents.new_id(),
        resident_id=resident_id,
        organisation_id=principal.org_id,
        org_type=principal.org_type,
        recorded_by=principal.subject,
        recorded_at=utcnow(),
        income_per_member_idr=data.monthly_income_idr // data.household_size,
        **data.model_dump(),
    )
    session.add(follow_up)
    session.flush()
    disclosures = list(
        session.scalars(select(Disclosure).where(col(Disclosure.resident_id) == resident_id))
    )
    visits = [
        visit
        for visit in session.scalars(
            select(FollowUp).where(col(FollowUp.resident_id) == resident_id)
        )
        if counts(visit, disclosures)
    ]
    # The resident's figures follow the latest visit that counts: a forged visit dated ahead
    # must not freeze them either.
    latest = not any(visit.visited_on > follow_up.visited_on for visit in visits)
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
        "income_source": follow_up.income_source,
        "organisation_id": follow_up.organisation_id,
    }
    residents.changed(
        session, principal, resident, "follow_up", fields, settings, follow_up=payload
    )
    plan.close_answered(session, principal, follow_up, settings)
    graduation.settle(session, principal, resident, settings)
    return follow_up, resident, True


def to_visit(follow_up: FollowUp) -> FollowUpVisit:
    return FollowUpVisit.model_validate(follow_up)


def _after(cursor: str) -> tuple[date, str]:
    """The (visited_on, id) a page ends at; anything else is not a cursor we issued."""
    visited_on, follow_up_id = decode_cursor(cursor, 2)
    try:
        return date.fromisoformat(visited_on), str(follow_up_id)
    except (TypeError, ValueError) as exc:
        raise UnprocessableEntity(["query", "cursor"], "not a cursor this endpoint issued") from exc


def list_for_resident(
    session: Session,
    principal: Principal,
    resident_id: str,
    params: PageParams,
    purpose: str | None = None,
) -> tuple[list[FollowUpVisit], str | None]:
    """The resident's visits, newest first; a resident out of reach is 404, as when read. A
    provider gets only the visits about its placements disclosed to it now (another
    organisation's notes are not its business); a page that shows visits is audited like a
    read of the resident, with the disclosure's purpose for a provider and the caller's
    X-Purpose (``purpose``) for others.

    Keyset on (visited_on, id) descending: ``shared.kit.pagination.paginate`` only walks
    ascending, and the latest visits are the ones a case worker looks for."""
    order = (col(FollowUp.visited_on), col(FollowUp.id))
    statement = select(FollowUp).where(col(FollowUp.resident_id) == resident_id)
    disclosed_for = None
    if access.is_provider(principal):
        _, disclosed_for = access.get_disclosed(session, principal, resident_id)
        own_placements = select(col(Disclosure.placement_id)).where(
            col(Disclosure.resident_id) == resident_id,
            col(Disclosure.org_id) == principal.org_id,
            col(Disclosure.valid_until) >= _disclosed_now(),
        )
        statement = statement.where(col(FollowUp.placement_id).in_(own_placements))
    else:
        access.get_visible(session, principal, resident_id)
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
    if rows:
        record_access(
            session,
            principal,
            [resident_id],
            action="follow_up.read",
            purpose=disclosed_for or purpose,
            stated_purpose=purpose,
        )
    return [to_visit(row) for row in rows], cursor
