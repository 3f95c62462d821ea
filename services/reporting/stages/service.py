"""The five programme stages with their plan and measured progress, and the targets."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from services.reporting.indicators import service as indicators
from services.reporting.indicators.models import ReportScope
from services.reporting.stages.models import (
    STAGE_ORDER,
    STANDING,
    ProgramStage,
    ProgramTarget,
    StageCode,
    StageProgress,
    StagePublic,
    StageStatus,
    StageUpdate,
    TargetIn,
    TargetPublic,
)
from shared.kit.problems import UnprocessableEntity
from shared.kit.time import utcnow
from shared.programme.regions import is_known


def _progress(measure: str, value: int | None, of: int | None) -> StageProgress:
    return StageProgress(
        measure=measure, value=value, of=of or None, ratio=indicators.ratio(value, of)
    )


def _targets_total(session: Session) -> tuple[int | None, int | None]:
    totals = indicators.target_totals(session, None)
    if totals is None:
        return None, None
    return totals["residents_to_place"], totals["residents_to_become_independent"]


# Stage measures that count residents, and the cell of the report cube each one is.
RESIDENT_MEASURES = {
    "residents_verified": "residents.verified",
    "residents_placed": "placements.accepted",
    "follow_ups_recorded": "follow_ups",
    "residents_independent": "residents.independent",
}


def list_stages(session: Session, suppress_below: int = 0) -> list[StagePublic]:
    """``suppress_below`` > 1 (a regional agency): the resident counts are masked by the same
    disclosure as the regency's summary of today, so they never show what it hides."""
    plans = {row.code: row for row in session.execute(select(ProgramStage)).scalars()}
    measured: dict[str, int | None] = {**indicators.stage_measures(session)}
    if suppress_below > 1:
        scope = ReportScope(
            region=None,
            provider_org_id=None,
            residents_visible=True,
            suppress_below=suppress_below,
            cutoff=None,
            as_of=utcnow().date(),  # no cutoff: everything, as the stages count
        )
        mask = indicators.disclosure(session, scope)
        for name, cell in RESIDENT_MEASURES.items():
            value = measured[name]
            measured[name] = None if value is None else mask.show(cell, None, value)
    to_place, to_free = _targets_total(session)
    progress = {
        StageCode.preparation: [
            _progress("districts_with_targets", measured["districts_with_targets"], None)
        ],
        StageCode.data_integration: [
            _progress(
                "villages_with_data",
                measured["villages_with_data"],
                indicators.villages_in_target_districts(session),
            ),
            _progress("residents_verified", measured["residents_verified"], None),
        ],
        StageCode.program_sync: [
            _progress("stakeholders_publishing", measured["stakeholders_publishing"], None)
        ],
        StageCode.distribution_trial: [
            _progress("residents_placed", measured["residents_placed"], to_place)
        ],
        StageCode.monitoring_evaluation: [
            _progress("follow_ups_recorded", measured["follow_ups_recorded"], None),
            _progress("residents_independent", measured["residents_independent"], to_free),
        ],
    }
    stages = []
    for position, code in enumerate(STAGE_ORDER, start=1):
        plan = plans.get(code.value)
        stages.append(
            StagePublic(
                code=code,
                position=position,
                planned_start=plan.planned_start if plan else None,
                planned_end=plan.planned_end if plan else None,
                actual_start=plan.actual_start if plan else None,
                actual_end=plan.actual_end if plan else None,
                status=StageStatus(plan.status) if plan else StageStatus.planned,
                progress=progress[code],
            )
        )
    return stages


def set_stage(session: Session, code: StageCode, update: StageUpdate, org_id: str) -> None:
    plan = session.get(ProgramStage, code.value)
    values = update.model_dump()
    if plan is None:
        plan = ProgramStage(code=code.value, updated_at=utcnow(), updated_by=org_id, **values)
        session.add(plan)
    else:
        for name, value in values.items():
            setattr(plan, name, value)
        plan.updated_at = utcnow()
        plan.updated_by = org_id
    session.flush()


def set_targets(session: Session, targets: list[TargetIn], org_id: str) -> None:
    seen: set[tuple[str | None, str]] = set()
    for index, target in enumerate(targets):
        if not is_known(target.district_code, "district"):
            raise UnprocessableEntity(
                ["body", "targets", index, "district_code"], "not a known district code"
            )
        key = (target.cohort, target.district_code)
        if key in seen:
            raise UnprocessableEntity(
                ["body", "targets", index, "district_code"], "given twice for this cohort"
            )
        seen.add(key)
    for target in targets:
        cohort = target.cohort or STANDING
        row = session.get(ProgramTarget, (cohort, target.district_code))
        if row is None:
            row = ProgramTarget(
                cohort_code=cohort,
                district_code=target.district_code,
                residents_to_place=target.residents_to_place,
                residents_to_become_independent=target.residents_to_become_independent,
                updated_at=utcnow(),
                updated_by=org_id,
            )
            session.add(row)
        else:
            row.residents_to_place = target.residents_to_place
            row.residents_to_become_independent = target.residents_to_become_independent
            row.updated_at = utcnow()
            row.updated_by = org_id
    session.flush()


def list_targets(session: Session, cohort: str | None = None) -> list[TargetPublic]:
    """Every target, the standing ones first, then each cohort's; ``cohort``: only its own."""
    statement = select(ProgramTarget).order_by(
        col(ProgramTarget.cohort_code), col(ProgramTarget.district_code)
    )
    if cohort is not None:
        statement = statement.where(col(ProgramTarget.cohort_code) == cohort)
    return [
        TargetPublic(
            cohort=row.cohort_code or None,
            district_code=row.district_code,
            residents_to_place=row.residents_to_place,
            residents_to_become_independent=row.residents_to_become_independent,
        )
        for row in session.execute(statement).scalars()
    ]
