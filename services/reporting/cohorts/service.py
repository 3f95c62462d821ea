"""The cohort report from the read model: each cohort's funnel, graduated and left-deciles
counts and median change of income per member, per district and over every district counted,
against the cohort's targets.

Same access and suppression as every report (indicators/access.py): providers read no
resident counts (403); local governments their region; for regional agencies each measure's
district cells and the cohort's total are masked together (``indicators.rules.suppress``),
the same cells whether read from the list or from one cohort, so the two never differ by a
hidden one, and a median stands only on at least ``suppress_below`` participants.

``as_of`` counts enrolments, placements, visits and graduations made by then; the decile a
participant holds is its current one (the read model keeps no decile history), as ranks in the
targeting report.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func
from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.reporting.cohorts import rules
from services.reporting.cohorts.models import CohortReport, CohortRow, CohortTargets
from services.reporting.indicators.models import ReportScope
from services.reporting.indicators.rules import Group, suppress
from services.reporting.indicators.service import in_region, ratio
from services.reporting.readmodel.models import (
    EnrolmentFact,
    FollowUpFact,
    PlacementFact,
    ResidentFact,
)
from services.reporting.stages.models import STANDING, ProgramTarget
from shared.kit.problems import Forbidden, NotFound
from shared.programme.cohorts import DecileStamp, left_targeted_deciles
from shared.programme.regions import level_of

ALL = "*"  # the district code of a cohort's total
Cell = tuple[str, str, str]  # (cohort, measure, district code or ALL)


def _participants(
    session: Session, scope: ReportScope, cohort: str | None
) -> dict[str, list[rules.Participant]]:
    enrolments = (
        select(EnrolmentFact, ResidentFact)
        .join(ResidentFact, col(ResidentFact.id) == col(EnrolmentFact.resident_id))
        # A duplicate merged into another record is not a second participant.
        .where(
            col(ResidentFact.removed_at).is_(None),
            *in_region(scope.region, ResidentFact.district_code, ResidentFact.village_code),
        )
    )
    if cohort is not None:
        enrolments = enrolments.where(col(EnrolmentFact.cohort_code) == cohort)
    rows = [
        (enrolment, resident)
        for enrolment, resident in session.execute(enrolments).all()
        if scope.happened(enrolment.enrolled_at)
    ]
    ids = list({resident.id for _, resident in rows})
    proposed: set[str] = set()
    placed: set[str] = set()
    latest: dict[str, tuple[date, int | None]] = {}
    if ids:
        placements = select(
            col(PlacementFact.resident_id),
            col(PlacementFact.proposed_at),
            col(PlacementFact.accepted_at),
        ).where(col(PlacementFact.resident_id).in_(ids))
        for resident_id, proposed_at, accepted_at in session.execute(placements):
            if scope.happened(proposed_at):
                proposed.add(resident_id)
            if scope.happened(accepted_at):
                placed.add(resident_id)
        visits = select(
            col(FollowUpFact.resident_id),
            col(FollowUpFact.visited_on),
            col(FollowUpFact.income_per_member_idr),
        ).where(col(FollowUpFact.resident_id).in_(ids))
        if scope.cutoff is not None:
            visits = visits.where(col(FollowUpFact.visited_on) <= scope.as_of)
        for resident_id, visited_on, income in session.execute(visits):
            if resident_id not in latest or visited_on > latest[resident_id][0]:
                latest[resident_id] = (visited_on, income)
    by_cohort: dict[str, list[rules.Participant]] = defaultdict(list)
    for enrolment, resident in rows:
        visit = latest.get(resident.id)
        income = visit[1] if visit else None
        baseline = DecileStamp(
            enrolment.welfare_decile, enrolment.decile_edition, enrolment.decile_effective_on
        )
        now = DecileStamp(
            resident.welfare_decile, resident.decile_edition, resident.decile_effective_on
        )
        by_cohort[enrolment.cohort_code].append(
            rules.Participant(
                district_code=resident.district_code,
                proposed=resident.id in proposed,
                placed=resident.id in placed,
                followed_up=visit is not None,
                graduated=scope.happened(resident.independent_at),
                # An enrolment fed before the registry named its targeted deciles left none.
                left_targeted_deciles=enrolment.target_max_decile is not None
                and left_targeted_deciles(
                    baseline, enrolment.baseline_on, now, enrolment.target_max_decile
                ),
                income_change_idr=(
                    None
                    if income is None or enrolment.income_per_member_idr is None
                    else income - enrolment.income_per_member_idr
                ),
            )
        )
    return by_cohort


def _targets(
    session: Session, scope: ReportScope, cohort: str | None
) -> dict[str, dict[str, tuple[int, int]]]:
    """cohort -> district -> (residents to place, to become independent), in the scope."""
    if scope.region is not None and level_of(scope.region) == "village":
        return {}  # targets are set per district: a village's share is not known
    statement = select(ProgramTarget).where(
        col(ProgramTarget.cohort_code) != STANDING,
        *in_region(scope.region, ProgramTarget.district_code, None),
    )
    if cohort is not None:
        statement = statement.where(col(ProgramTarget.cohort_code) == cohort)
    found: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for row in session.scalars(statement):
        found[row.cohort_code][row.district_code] = (
            row.residents_to_place,
            row.residents_to_become_independent,
        )
    return found


def _hidden(tables: dict[str, dict[str, dict[str, int]]], threshold: int) -> frozenset[Cell]:
    """``tables``: cohort -> district -> measure -> count. Each cohort is masked on its own: a
    resident may be in two cohorts, so cohorts are not parts of any sum shown."""
    cells: dict[Cell, int] = {}
    groups: list[Group[Cell]] = []
    for cohort, districts in tables.items():
        for measure in rules.MEASURES:
            parts = [(cohort, measure, district) for district in districts]
            for district, counted in districts.items():
                cells[(cohort, measure, district)] = counted[measure]
            cells[(cohort, measure, ALL)] = sum(cells[part] for part in parts)
            groups.append(Group((cohort, measure, ALL), parts))
    return suppress(cells, groups, threshold)


def _row(
    cohort: str,
    district: str,
    people: list[rules.Participant],
    hidden: frozenset[Cell],
    scope: ReportScope,
    targets: tuple[int, int] | None,
) -> CohortRow:
    counted = rules.counts(people)
    shown = {
        measure: None if (cohort, measure, district) in hidden else counted[measure]
        for measure in rules.MEASURES
    }
    median = (
        None
        if shown["enrolled"] is None
        else rules.median_change(people, max(scope.suppress_below, 1))
    )
    return CohortRow(
        cohort=cohort,
        district_code=None if district == ALL else district,
        enrolled=shown["enrolled"],
        proposed=shown["proposed"],
        placed=shown["placed"],
        followed_up=shown["followed_up"],
        graduated=shown["graduated"],
        left_targeted_deciles=shown["left_targeted_deciles"],
        median_income_per_member_change_idr=median,
        targets=None
        if targets is None
        else CohortTargets(
            residents_to_place=targets[0],
            residents_to_become_independent=targets[1],
            placement_progress=ratio(shown["placed"], targets[0]),
            graduation_progress=ratio(shown["graduated"], targets[1]),
        ),
    )


def _exists(session: Session, cohort: str) -> bool:
    for model in (EnrolmentFact, ProgramTarget):
        statement = select(model.cohort_code).where(model.cohort_code == cohort).limit(1)
        if session.scalars(statement).first() is not None:
            return True
    return False


def _total(targets: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
    if not targets:
        return None
    return sum(t[0] for t in targets.values()), sum(t[1] for t in targets.values())


def reports(session: Session, scope: ReportScope, cohort: str | None = None) -> list[CohortReport]:
    if not scope.residents_visible:
        raise Forbidden("the cohort report is about residents; providers read their own")
    participants = _participants(session, scope, cohort)
    targets = _targets(session, scope, cohort)
    known = set(participants) | set(targets)
    if cohort is None:
        # A cohort with no participant in the region is listed with zeros: that it exists
        # names nobody.
        known |= set(session.scalars(select(func.distinct(EnrolmentFact.cohort_code))))
    elif not known:
        if not _exists(session, cohort):
            raise NotFound("no such cohort: nobody is enrolled in it and it has no targets")
        known = {cohort}
    by_district: dict[str, dict[str, list[rules.Participant]]] = {}
    for code in known:
        districts: dict[str, list[rules.Participant]] = defaultdict(list)
        for person in participants.get(code, []):
            districts[person.district_code].append(person)
        for district in targets.get(code, {}):
            districts.setdefault(district, [])
        by_district[code] = districts
    tables = {
        code: {district: rules.counts(people) for district, people in districts.items()}
        for code, districts in by_district.items()
    }
    hidden = _hidden(tables, scope.suppress_below) if scope.suppress_below > 1 else frozenset()
    answer = []
    for code in sorted(known):
        districts = by_district[code]
        own = targets.get(code, {})
        rows = [
            _row(code, district, districts[district], hidden, scope, own.get(district))
            for district in sorted(districts)
        ]
        everyone = [person for people in districts.values() for person in people]
        total = _row(code, ALL, everyone, hidden, scope, _total(own))
        answer.append(CohortReport(**total.model_dump(), districts=rows))
    return answer
