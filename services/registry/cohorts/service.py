"""Cohorts and enrolments: who takes part in a programme year, and where each one started.

Enrolling freezes the baseline (decile with its source and edition, from the resident's decile
history on the enrolment day; the household's income and size at the enrolment
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
from services.registry.deciles.models import DecileEntry, ResidentDecile, effective_on
from services.registry.follow_ups.rules import programme_today
from services.registry.households import service as households
from services.registry.residents import service as residents
from services.registry.residents.models import Resident
from services.registry.settings import RegistrySettings
from shared.kit.problems import Conflict, Forbidden, NotFound, UnprocessableEntity
from shared.kit.tokens import Principal
from shared.programme.cohorts import DecileStamp, baseline_from, left_targeted_deciles
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


def decile_on(session: Session, resident: Resident, on: date) -> DecileEntry | None:
    """The decile in effect on ``on`` from the resident's decile history: the entry with the
    latest effective day not after it (the later recorded of a tie). A resident whose history
    starts after ``on`` (an enrolment recorded late, for a resident registered since) starts
    from the decile it holds now: the earliest one known to the registry would be a guess too,
    and the one held now is what the village saw when it enrolled the resident."""
    entry = session.scalars(
        select(ResidentDecile)
        .where(
            col(ResidentDecile.resident_id) == resident.id,
            col(ResidentDecile.effective_on) <= on,
        )
        .order_by(col(ResidentDecile.effective_on).desc(), col(ResidentDecile.id).desc())
        .limit(1)
    ).first()
    if entry is not None:
        return DecileEntry.model_validate(entry, from_attributes=True)
    if resident.welfare_decile is None:
        return None
    return DecileEntry(
        welfare_decile=resident.welfare_decile,
        source=resident.decile_source,
        edition=resident.decile_edition,
        effective_on=resident.decile_effective_on or on,
    )


def baseline_of(session: Session, resident: Resident, on: date) -> Baseline:
    figures = households.figures_at(session, households.members_of(session, resident), on)
    # A resident whose decile was cleared has none to start from, whatever its history held.
    decile = decile_on(session, resident, on) if resident.welfare_decile is not None else None
    return Baseline(
        baseline_on=on,
        welfare_decile=decile.welfare_decile if decile else None,
        decile_source=decile.source if decile else None,
        decile_edition=decile.edition if decile else None,
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
            "decile_source": enrolment.decile_source,
            "decile_edition": enrolment.decile_edition,
            # The day the baseline's decile speaks from, which a later edition must follow.
            "decile_effective_on": baseline_day(enrolment).isoformat(),
            "income_per_member_idr": enrolment.income_per_member_idr,
            # The deciles the programme targeted when the baseline was frozen: reporting
            # counts who left them without a setting of its own that could disagree.
            "target_max_decile": settings.target_max_decile,
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


def baseline_day(enrolment: Enrolment) -> date:
    """The day the baseline's decile speaks from (shared/programme/cohorts.py)."""
    starts = None
    if enrolment.decile_edition is not None:
        try:
            starts = effective_on(enrolment.decile_edition)
        except ValueError:
            starts = None  # editions are checked on import; an odd one speaks from enrolment
    return baseline_from(starts, enrolment.baseline_on)


def baseline_stamp(enrolment: Enrolment) -> DecileStamp:
    return DecileStamp(enrolment.welfare_decile, enrolment.decile_edition, baseline_day(enrolment))


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
        # The decile the resident holds now is the latest of its history (deciles/models.py).
        now = DecileStamp(
            resident.welfare_decile, resident.decile_edition, resident.decile_effective_on
        )
        stamp = baseline_stamp(enrolment)
        if left_targeted_deciles(stamp, enrolment.baseline_on, now, settings.target_max_decile):
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
