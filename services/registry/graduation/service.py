"""Judging households by the graduation rule, recording and revoking graduations.

A household (the family card) is judged on the counting visits of all its members; when the
rule holds, every member in the programme (enrolled in a cohort, visited, or placed) gets a
``graduated`` event with the evidence and the status ``independent``. A later visit that breaks
the rule revokes it (by the rule), and an agency may revoke it with a reason; after a
revocation, only evidence that includes a visit recorded since graduates the member again.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.audit.service import record_access
from services.registry.cohorts.models import Enrolment
from services.registry.disclosures.models import Disclosure
from services.registry.follow_ups.models import FollowUp
from services.registry.follow_ups.rules import programme_today
from services.registry.graduation import rules
from services.registry.graduation.models import (
    ConditionPublic,
    Graduation,
    GraduationEvent,
    GraduationPublic,
)
from services.registry.households import service as households
from services.registry.residents import service as residents
from services.registry.residents.models import Resident
from services.registry.settings import RegistrySettings
from shared.kit.attributes import build
from shared.kit.problems import Conflict, Forbidden
from shared.kit.time import as_utc
from shared.kit.tokens import Principal
from shared.programme.organisations import PROGRAMME_TYPES


def rule_of(settings: RegistrySettings) -> rules.Rule:
    return rules.Rule(
        version=settings.graduation_rule_version,
        min_visits=settings.independence_follow_ups,
        min_days=settings.independence_min_days,
        poverty_line_idr=settings.poverty_line_idr,
        min_verified_visits=settings.graduation_verified_visits,
    )


def _judge(
    session: Session, members: list[Resident], settings: RegistrySettings
) -> tuple[rules.Judgement, list[FollowUp]]:
    visits = list(reversed(households.counting_visits(session, members, programme_today())))
    facts = [build(rules.Visit, v) for v in visits]
    return rules.judge(facts, rule_of(settings)), visits


def in_programme(session: Session, members: list[Resident]) -> list[Resident]:
    """The members enrolled in a cohort, visited, or placed (a disclosure records a placement)."""
    ids = [m.id for m in members]
    taking_part = set(
        session.scalars(
            select(col(Enrolment.resident_id)).where(col(Enrolment.resident_id).in_(ids))
        )
    )
    taking_part |= set(
        session.scalars(select(col(FollowUp.resident_id)).where(col(FollowUp.resident_id).in_(ids)))
    )
    taking_part |= set(
        session.scalars(
            select(col(Disclosure.resident_id)).where(col(Disclosure.resident_id).in_(ids))
        )
    )
    return [m for m in members if m.id in taking_part and m.status != "archived"]


def _events(session: Session, resident_ids: list[str]) -> list[Graduation]:
    return list(
        session.scalars(
            select(Graduation)
            .where(col(Graduation.resident_id).in_(resident_ids))
            .order_by(col(Graduation.recorded_at).desc(), col(Graduation.id).desc())
        )
    )


def _not_independent(resident: Resident) -> None:
    resident.status = "verified" if resident.verified_at else "registered"
    resident.independent_at = None


def settle(
    session: Session, principal: Principal, resident: Resident, settings: RegistrySettings
) -> None:
    """After a visit of ``resident``: judge its household and graduate, or revoke by the rule,
    each member in the programme."""
    members = households.members_of(session, resident)
    judgement, visits = _judge(session, members, settings)
    recorded_at = {v.id: as_utc(v.recorded_at) for v in visits}
    events = _events(session, [m.id for m in members])
    for member in in_programme(session, members):
        mine = [e for e in events if e.resident_id == member.id]
        active = next((e for e in mine if e.revoked_at is None), None)
        if judgement.holds and active is None:
            revoked = [as_utc(e.revoked_at) for e in mine if e.revoked_at is not None]
            if revoked and not any(recorded_at[v.id] > max(revoked) for v in judgement.evidence):
                continue  # the evidence a revocation rejected does not graduate again
            _graduate(session, principal, member, judgement, settings)
        elif not judgement.holds and active is not None:
            failing = [c.name for c in judgement.conditions if not c.holds]
            _revoke(
                session,
                principal,
                member,
                active,
                f"rule no longer holds: {', '.join(failing)}",
                settings,
            )


def _graduate(
    session: Session,
    principal: Principal,
    member: Resident,
    judgement: rules.Judgement,
    settings: RegistrySettings,
) -> None:
    now = residents.now_utc()
    evidence_visits = [
        {
            "id": v.id,
            "visited_on": v.visited_on.isoformat(),
            "monthly_income_idr": v.monthly_income_idr,
            "household_size": v.household_size,
            "income_per_member_idr": v.income_per_member_idr,
            "income_source": v.income_source,
        }
        for v in judgement.evidence
    ]
    graduation = Graduation(
        id=residents.new_id(),
        resident_id=member.id,
        graduated_on=judgement.evidence[-1].visited_on,
        recorded_at=now,
        rule_version=settings.graduation_rule_version,
        evidence={"poverty_line_idr": settings.poverty_line_idr, "visits": evidence_visits},
    )
    session.add(graduation)
    member.status = "independent"
    member.independent_at = now
    residents.changed(
        session,
        principal,
        member,
        "graduated",
        ["status"],
        settings,
        graduation={
            "id": graduation.id,
            "graduated_on": graduation.graduated_on.isoformat(),
            "rule_version": graduation.rule_version,
            "visit_ids": [v["id"] for v in evidence_visits],
        },
    )


def _revoke(
    session: Session,
    principal: Principal,
    member: Resident,
    graduation: Graduation,
    reason: str,
    settings: RegistrySettings,
) -> None:
    graduation.revoked_at = residents.now_utc()
    graduation.revoked_by_org = principal.org_id
    graduation.revoke_reason = reason
    session.add(graduation)
    if member.status == "independent":
        _not_independent(member)
    residents.changed(
        session,
        principal,
        member,
        "graduation_revoked",
        ["status"],
        settings,
        graduation={"id": graduation.id},
    )


def revoke(
    session: Session,
    principal: Principal,
    resident_id: str,
    reason: str,
    settings: RegistrySettings,
) -> GraduationPublic:
    """An agency's revocation: the household's graduations in force end, with the reason."""
    if principal.org_type not in PROGRAMME_TYPES:
        raise Forbidden("only the secretariat and agencies revoke a graduation")
    resident = access.get_editable(session, principal, resident_id)
    members = households.members_of(session, resident)
    active = [e for e in _events(session, [m.id for m in members]) if e.revoked_at is None]
    if not active:
        raise Conflict("this household has no graduation in force")
    by_id = {m.id: m for m in members}
    for graduation in active:
        _revoke(session, principal, by_id[graduation.resident_id], graduation, reason, settings)
    session.flush()
    return read(session, principal, resident_id, settings, purpose="graduation.revoke")


def read(
    session: Session,
    principal: Principal,
    resident_id: str,
    settings: RegistrySettings,
    purpose: str | None,
) -> GraduationPublic:
    """Whether the resident graduated, and each condition of the rule as the household's
    visits stand today; audited (it shows the household's income)."""
    access.require_lister(principal)
    resident = access.get_visible(session, principal, resident_id)
    members = households.members_of(session, resident)
    judgement, _ = _judge(session, members, settings)
    events = _events(session, [resident.id])
    record_access(
        session, principal, [resident.id], action="graduation.read", stated_purpose=purpose
    )
    return GraduationPublic(
        resident_id=resident.id,
        graduated=any(e.revoked_at is None for e in events),
        rule_version=settings.graduation_rule_version,
        conditions=[
            ConditionPublic(name=c.name, holds=c.holds, detail=c.detail, missing=c.missing)
            for c in judgement.conditions
        ],
        events=[GraduationEvent.model_validate(e) for e in events],
    )


def graduated_residents(session: Session, resident_ids: list[str]) -> set[str]:
    """Of these residents, those with a graduation in force."""
    return set(
        session.scalars(
            select(col(Graduation.resident_id)).where(
                col(Graduation.resident_id).in_(resident_ids), col(Graduation.revoked_at).is_(None)
            )
        )
    )
