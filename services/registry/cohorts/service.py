"""Cohorts and enrolments: who takes part in a programme year, and where each one started.

Enrolling freezes the baseline (decile, the household's income and size at the enrolment
date, income per member, employment status); nothing writes it again. A resident is enrolled
by an organisation that governs it (``POST /v1/cohorts/{code}/enrolments``), or on its first
accepted placement when ``REGISTRY_AUTO_ENROL_COHORT`` names a cohort (the registry's reader
of matching's placement feed calls ``enrol_on_placement``).
"""

from __future__ import annotations

import statistics
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.audit.service import record_access
from services.registry.cohorts.models import (
    Baseline,
    Cohort,
    CohortCounts,
    CohortCreate,
    CohortPublic,
    Enrolment,
    EnrolmentPublic,
    EnrolmentsIn,
    EnrolmentsResult,
)
from services.registry.follow_ups.rules import programme_today
from services.registry.households import service as households
from services.registry.residents import service as residents
from services.registry.residents.models import Resident
from services.registry.settings import RegistrySettings
from shared.kit.problems import Conflict, Forbidden, NotFound, UnprocessableEntity
from shared.kit.tokens import Principal
from shared.programme.organisations import PROGRAMME_TYPES

SYSTEM = Principal(
    subject="registry:placement-feed",
    org_id="registry",
    org_type="service",
    region=None,
    scopes=frozenset(),
)


def create(session: Session, principal: Principal, data: CohortCreate) -> tuple[Cohort, bool]:
    """The cohort and whether it is new; the same cohort sent again is the one stored."""
    if principal.org_type not in PROGRAMME_TYPES:
        raise Forbidden("only the secretariat and agencies define cohorts")
    existing = session.get(Cohort, data.code)
    if existing is not None:
        if CohortCreate.model_validate(existing, from_attributes=True) != data:
            raise Conflict("a different cohort has this code")
        return existing, False
    cohort = Cohort(
        **data.model_dump(), created_by_org=principal.org_id, created_at=residents.now_utc()
    )
    try:
        with session.begin_nested():
            session.add(cohort)
    except IntegrityError as exc:
        raise Conflict("a cohort with this code was created meanwhile") from exc
    return cohort, True


def _cohort(session: Session, code: str) -> Cohort:
    cohort = session.get(Cohort, code)
    if cohort is None:
        raise NotFound("no such cohort")
    return cohort


def baseline_of(session: Session, resident: Resident, on: date) -> Baseline:
    figures = households.figures_at(session, households.members_of(session, resident), on)
    return Baseline(
        baseline_on=on,
        welfare_decile=resident.welfare_decile,
        # The resident record keeps no decile source or edition yet (the decile history of
        # the data-integration issue will): frozen as unknown rather than guessed.
        decile_source=None,
        decile_edition=None,
        household_income_idr=figures.monthly_income_idr,
        household_size=figures.household_size,
        income_per_member_idr=figures.income_per_member_idr,
        employment_status=resident.employment_status,
    )


def _enrol(
    session: Session,
    principal: Principal,
    cohort: Cohort,
    resident: Resident,
    on: date,
    via: str,
    settings: RegistrySettings,
) -> Enrolment:
    enrolment = Enrolment(
        id=residents.new_id(),
        cohort_code=cohort.code,
        resident_id=resident.id,
        enrolled_at=residents.now_utc(),
        enrolled_by_org=principal.org_id,
        enrolled_via=via,
        **baseline_of(session, resident, on).model_dump(),
    )
    session.add(enrolment)
    session.flush()
    # Reporting learns of the enrolment on the feed: the cohort and the baseline's decile and
    # income per member, which it compares later figures with (no personal identifiers).
    residents.changed(
        session,
        principal,
        resident,
        "enrolled",
        [],
        settings,
        cohort={
            "code": cohort.code,
            "baseline_on": on.isoformat(),
            "welfare_decile": enrolment.welfare_decile,
            "income_per_member_idr": enrolment.income_per_member_idr,
        },
    )
    return enrolment


def _enrolment_day(cohort: Cohort, requested: date | None) -> date:
    today = programme_today()
    on = requested or today
    if on > today:
        raise UnprocessableEntity("enrolled_on", "is later than today in the programme's time zone")
    if not cohort.enrolment_opens <= on <= cohort.enrolment_closes:
        raise UnprocessableEntity(
            "enrolled_on" if requested else ["path", "code"],
            f"is outside the cohort's enrolment window "
            f"({cohort.enrolment_opens} to {cohort.enrolment_closes})",
        )
    return on


def enrol(
    session: Session,
    principal: Principal,
    code: str,
    data: EnrolmentsIn,
    settings: RegistrySettings,
) -> EnrolmentsResult:
    """All or nothing: the first listed id that is not an enrollable resident in the caller's
    region is a 422 naming its position, and nobody is enrolled."""
    cohort = _cohort(session, code)
    on = _enrolment_day(cohort, data.enrolled_on)
    found = {
        resident.id: resident
        for resident in session.scalars(
            select(Resident)
            .where(col(Resident.id).in_(data.resident_ids), access.region_filter(principal))
            .with_for_update()
        )
    }
    if principal.org_type not in PROGRAMME_TYPES:
        found = {rid: r for rid, r in found.items() if access.governs(principal, r.village_code)}
    access.check_listed(
        data.resident_ids,
        found,
        absent="is not a resident in your region",
        usable=lambda r: r.status != "archived" and not r.merged_into and not r.held_nik,
        unusable="cannot be enrolled (archived, merged or under review)",
    )
    enrolled_already = set(
        session.scalars(
            select(col(Enrolment.resident_id)).where(
                col(Enrolment.cohort_code) == code,
                col(Enrolment.resident_id).in_(data.resident_ids),
            )
        )
    )
    enrolled = []
    for resident_id in data.resident_ids:
        if resident_id not in enrolled_already:
            _enrol(session, principal, cohort, found[resident_id], on, "request", settings)
            enrolled.append(resident_id)
    return EnrolmentsResult(
        cohort=code,
        enrolled=enrolled,
        already_enrolled=[rid for rid in data.resident_ids if rid in enrolled_already],
    )


def enrol_on_placement(
    session: Session, resident_id: str, on: date, settings: RegistrySettings
) -> bool:
    """Enrol a resident whose first placement was accepted into the automatic cohort, when the
    setting names one and the resident is in no cohort yet; whether it enrolled."""
    code = settings.auto_enrol_cohort
    if code is None:
        return False
    cohort = session.get(Cohort, code)
    resident = session.get(Resident, resident_id, with_for_update=True)
    if cohort is None or resident is None or resident.status == "archived":
        return False
    if session.scalars(
        select(col(Enrolment.id)).where(col(Enrolment.resident_id) == resident_id)
    ).first():
        return False
    # A placement accepted outside the window still starts the programme for the resident:
    # its baseline is taken that day, inside the window's bounds.
    day = min(max(on, cohort.enrolment_opens), cohort.enrolment_closes)
    _enrol(session, SYSTEM, cohort, resident, day, "placement", settings)
    return True


def _latest_income_per_member(session: Session, resident: Resident) -> int | None:
    visits = households.counting_visits(
        session, households.members_of(session, resident), programme_today()
    )
    return visits[0].income_per_member_idr if visits else None


def counts(
    session: Session, principal: Principal, code: str, settings: RegistrySettings
) -> CohortCounts:
    rows = session.execute(
        select(Enrolment, Resident)
        .join(Resident, col(Resident.id) == col(Enrolment.resident_id))
        .where(col(Enrolment.cohort_code) == code, access.region_filter(principal))
    ).all()
    changes = []
    left = 0
    for enrolment, resident in rows:
        targeted = enrolment.welfare_decile is not None and (
            enrolment.welfare_decile <= settings.target_max_decile
        )
        # The current decile, until the registry keeps a decile history by register edition.
        if targeted and (resident.welfare_decile or 0) > settings.target_max_decile:
            left += 1
        latest = _latest_income_per_member(session, resident)
        if latest is not None and enrolment.income_per_member_idr is not None:
            changes.append(latest - enrolment.income_per_member_idr)
    return CohortCounts(
        enrolled=len(rows),
        graduated=sum(1 for _, resident in rows if resident.status == "independent"),
        left_targeted_deciles=left,
        median_income_per_member_change_idr=int(statistics.median(changes)) if changes else None,
    )


def read(
    session: Session, principal: Principal, code: str, settings: RegistrySettings
) -> CohortPublic:
    access.require_lister(principal)
    cohort = _cohort(session, code)
    public = CohortPublic.model_validate(cohort)
    public.counts = counts(session, principal, code, settings)
    return public


def enrolments_of(
    session: Session, principal: Principal, resident_id: str, purpose: str | None
) -> list[EnrolmentPublic]:
    """The resident's enrolments with their baselines (income, decile: audited as a read)."""
    access.require_lister(principal)
    access.get_visible(session, principal, resident_id)
    rows = list(
        session.scalars(
            select(Enrolment)
            .where(col(Enrolment.resident_id) == resident_id)
            .order_by(col(Enrolment.enrolled_at))
        )
    )
    if rows:
        record_access(
            session, principal, [resident_id], action="enrolment.read", stated_purpose=purpose
        )
    return [
        EnrolmentPublic(
            cohort=row.cohort_code,
            resident_id=row.resident_id,
            enrolled_at=row.enrolled_at,
            enrolled_via=row.enrolled_via,
            baseline=Baseline.model_validate(row),
        )
        for row in rows
    ]
