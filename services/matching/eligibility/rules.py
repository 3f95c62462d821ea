"""Hard eligibility rules: pure functions over plain facts, each broken rule a reason code, so
"why not" is answerable for any resident-opportunity pair. The allocation engine applies the
same rules vectorised (``allocation.engine``); a test holds the two to the same answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from shared.programme.education import education_rank
from shared.programme.regions import within

KINDS: tuple[str, ...] = ("job", "internship", "training", "business_capital", "mentoring")
CAPITAL_KIND = "business_capital"
TRAINING_KIND = "training"
# A resident with a placement in one of these holds it "actively" for its kind.
ACTIVE_STATUSES = frozenset({"proposed", "offered", "accepted", "started"})


def consent_withheld(consent: str | None) -> bool:
    """Consent the registry recorded as refused or withdrawn (docs/contracts.md) keeps the
    resident out of rounds and placements; so does any word but "given" we do not know. No
    consent recorded (null) keeps no one out."""
    return consent is not None and consent != "given"


class Reason(StrEnum):
    NO_CONSENT = "no_consent"
    RESIDENT_STATUS = "resident_status"
    NOT_IN_TARGET_GROUP = "not_in_target_group"
    AGE_UNKNOWN = "age_unknown"
    BELOW_MIN_AGE = "below_min_age"
    ABOVE_MAX_AGE = "above_max_age"
    EDUCATION_BELOW_MINIMUM = "education_below_minimum"
    SEX_MISMATCH = "sex_mismatch"
    OUTSIDE_AREA = "outside_area"
    OPPORTUNITY_NOT_OPEN = "opportunity_not_open"
    NOT_OPEN_ON_RUN_DATE = "not_open_on_run_date"
    CAPITAL_ALREADY_RECEIVED = "capital_already_received"
    ACTIVE_PLACEMENT_OF_KIND = "active_placement_of_kind"
    NO_SLOTS_LEFT = "no_slots_left"


REASON_TEXT: dict[Reason, str] = {
    Reason.NO_CONSENT: "the resident refused or withdrew consent",
    Reason.RESIDENT_STATUS: "the resident is not in a status the engine may propose (verified)",
    Reason.NOT_IN_TARGET_GROUP: "the resident is not in the programme's target group",
    Reason.AGE_UNKNOWN: "the opportunity has an age bound and the resident's age is unknown",
    Reason.BELOW_MIN_AGE: "the resident is younger than the opportunity's minimum age",
    Reason.ABOVE_MAX_AGE: "the resident is older than the opportunity's maximum age",
    Reason.EDUCATION_BELOW_MINIMUM: "the resident's education is below the minimum required",
    Reason.SEX_MISMATCH: "the opportunity is reserved for the other sex",
    Reason.OUTSIDE_AREA: "the resident's village is outside the opportunity's eligible area",
    Reason.OPPORTUNITY_NOT_OPEN: "the opportunity is not open",
    Reason.NOT_OPEN_ON_RUN_DATE: "the opportunity's validity or end date has passed",
    Reason.CAPITAL_ALREADY_RECEIVED: "the resident already received business capital",
    Reason.ACTIVE_PLACEMENT_OF_KIND: "the resident already holds an active placement of this kind",
    Reason.NO_SLOTS_LEFT: "every slot of the opportunity is taken",
}


@dataclass(frozen=True)
class ResidentFacts:
    id: uuid.UUID
    village_code: str
    district_code: str
    regency_code: str
    status: str
    in_target_group: bool
    age: int | None = None
    sex: str | None = None
    education_level: str | None = None
    skills: tuple[str, ...] = ()
    welfare_decile: int | None = None
    priority_rank: int | None = None
    waiting_since: datetime | None = None
    active_kinds: frozenset[str] = field(default_factory=frozenset)
    received_capital: bool = False
    consent: str | None = None


@dataclass(frozen=True)
class OpportunityFacts:
    id: uuid.UUID
    kind: str
    provider_org_id: str
    status: str
    location_village_code: str | None = None
    eligible_area_codes: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    min_education: str | None = None
    sex: str | None = None
    skills_required: tuple[str, ...] = ()
    skills_taught: tuple[str, ...] = ()
    end_date: date | None = None
    valid_through: date | None = None
    remaining_slots: int | None = None


def resident_reasons(resident: ResidentFacts, eligible_statuses: frozenset[str]) -> list[Reason]:
    """Rules about the resident alone."""
    reasons: list[Reason] = []
    if consent_withheld(resident.consent):
        reasons.append(Reason.NO_CONSENT)
    if resident.status not in eligible_statuses:
        reasons.append(Reason.RESIDENT_STATUS)
    if not resident.in_target_group:
        reasons.append(Reason.NOT_IN_TARGET_GROUP)
    return reasons


def opportunity_reasons(opportunity: OpportunityFacts, run_date: date) -> list[Reason]:
    """Rules about the opportunity alone."""
    reasons: list[Reason] = []
    if opportunity.status != "open":
        reasons.append(Reason.OPPORTUNITY_NOT_OPEN)
    if any(
        d is not None and d < run_date for d in (opportunity.valid_through, opportunity.end_date)
    ):
        reasons.append(Reason.NOT_OPEN_ON_RUN_DATE)
    if opportunity.remaining_slots is not None and opportunity.remaining_slots <= 0:
        reasons.append(Reason.NO_SLOTS_LEFT)
    return reasons


def in_area(village_code: str, area_codes: tuple[str, ...]) -> bool:
    """An opportunity without eligible areas is open to every village."""
    return not area_codes or any(within(village_code, area) for area in area_codes)


def pair_reasons(resident: ResidentFacts, opportunity: OpportunityFacts) -> list[Reason]:
    """Rules about the pair."""
    reasons: list[Reason] = []
    if opportunity.min_age is not None or opportunity.max_age is not None:
        if resident.age is None:
            reasons.append(Reason.AGE_UNKNOWN)
        else:
            if opportunity.min_age is not None and resident.age < opportunity.min_age:
                reasons.append(Reason.BELOW_MIN_AGE)
            if opportunity.max_age is not None and resident.age > opportunity.max_age:
                reasons.append(Reason.ABOVE_MAX_AGE)
    if opportunity.min_education and education_rank(resident.education_level) < education_rank(
        opportunity.min_education
    ):
        reasons.append(Reason.EDUCATION_BELOW_MINIMUM)
    # The catalogue says "any" for offers open to both sexes (the round's arrays agree).
    if opportunity.sex in ("M", "F") and resident.sex != opportunity.sex:
        reasons.append(Reason.SEX_MISMATCH)
    if not in_area(resident.village_code, opportunity.eligible_area_codes):
        reasons.append(Reason.OUTSIDE_AREA)
    if opportunity.kind == CAPITAL_KIND and resident.received_capital:
        reasons.append(Reason.CAPITAL_ALREADY_RECEIVED)
    if opportunity.kind in resident.active_kinds:
        reasons.append(Reason.ACTIVE_PLACEMENT_OF_KIND)
    return reasons


def check(
    resident: ResidentFacts,
    opportunity: OpportunityFacts,
    run_date: date,
    eligible_statuses: frozenset[str] = frozenset({"verified"}),
) -> list[Reason]:
    """Every hard rule the pair breaks; empty when the resident may take the opportunity."""
    return (
        resident_reasons(resident, eligible_statuses)
        + opportunity_reasons(opportunity, run_date)
        + pair_reasons(resident, opportunity)
    )
