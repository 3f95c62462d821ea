"""Every hard rule, with its reason code, and the engine's vectorised rules agree with them."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from services.matching.allocation.arrays import build_arrays
from services.matching.allocation.engine import Candidates, generate_candidates, pair_contributions
from services.matching.eligibility.rules import (
    KINDS,
    OpportunityFacts,
    Reason,
    ResidentFacts,
    check,
)
from services.matching.scoring.features import FEATURES, weight_vector
from services.matching.settings import DEFAULT_WEIGHTS

TODAY = date(2026, 9, 1)
RESIDENT = ResidentFacts(
    id=uuid.uuid4(),
    village_code="63.02.17.2002",
    district_code="63.02.17",
    regency_code="63.02",
    status="verified",
    in_target_group=True,
    age=30,
    sex="F",
    education_level="senior_secondary",
    skills=("tailoring",),
    welfare_decile=2,
    priority_rank=3,
)
OPPORTUNITY = OpportunityFacts(
    id=uuid.uuid4(),
    kind="job",
    provider_org_id="org-1",
    status="open",
    location_village_code="63.02.17.2002",
    eligible_area_codes=("63.02.17",),
    min_age=18,
    max_age=45,
    min_education="junior_secondary",
    valid_through=TODAY + timedelta(days=10),
    remaining_slots=2,
)


def test_an_eligible_pair_breaks_no_rule() -> None:
    assert check(RESIDENT, OPPORTUNITY, TODAY) == []


@pytest.mark.parametrize(
    ("resident", "opportunity", "reason"),
    [
        ({"status": "registered"}, {}, Reason.RESIDENT_STATUS),
        ({"in_target_group": False}, {}, Reason.NOT_IN_TARGET_GROUP),
        ({"age": None}, {}, Reason.AGE_UNKNOWN),
        ({"age": 17}, {}, Reason.BELOW_MIN_AGE),
        ({"age": 46}, {}, Reason.ABOVE_MAX_AGE),
        ({"education_level": "primary"}, {}, Reason.EDUCATION_BELOW_MINIMUM),
        ({"education_level": None}, {}, Reason.EDUCATION_BELOW_MINIMUM),
        ({}, {"sex": "M"}, Reason.SEX_MISMATCH),
        ({"village_code": "63.02.06.2009"}, {}, Reason.OUTSIDE_AREA),
        ({}, {"status": "closed"}, Reason.OPPORTUNITY_NOT_OPEN),
        ({}, {"valid_through": TODAY - timedelta(days=1)}, Reason.NOT_OPEN_ON_RUN_DATE),
        ({}, {"end_date": TODAY - timedelta(days=1)}, Reason.NOT_OPEN_ON_RUN_DATE),
        ({"received_capital": True}, {"kind": "business_capital"}, Reason.CAPITAL_ALREADY_RECEIVED),
        ({"active_kinds": frozenset({"job"})}, {}, Reason.ACTIVE_PLACEMENT_OF_KIND),
        ({}, {"remaining_slots": 0}, Reason.NO_SLOTS_LEFT),
    ],
)
def test_each_rule_has_its_reason(resident: dict, opportunity: dict, reason: Reason) -> None:
    reasons = check(replace(RESIDENT, **resident), replace(OPPORTUNITY, **opportunity), TODAY)
    assert reasons == [reason]


def test_rules_that_do_not_apply_do_not_bite() -> None:
    # Capital received blocks capital only; an active job blocks jobs only; no area is anywhere.
    assert check(replace(RESIDENT, received_capital=True), OPPORTUNITY, TODAY) == []
    training = replace(OPPORTUNITY, kind="training")
    assert check(replace(RESIDENT, active_kinds=frozenset({"job"})), training, TODAY) == []
    anywhere = replace(OPPORTUNITY, eligible_area_codes=())
    assert check(replace(RESIDENT, village_code="63.02.06.2009"), anywhere, TODAY) == []
    unbounded = replace(OPPORTUNITY, min_age=None, max_age=None)
    assert check(replace(RESIDENT, age=None), unbounded, TODAY) == []
    # Vocational and general senior secondary rank the same.
    vocational = replace(OPPORTUNITY, min_education="senior_secondary")
    assert check(replace(RESIDENT, education_level="vocational_secondary"), vocational, TODAY) == []


def _random_resident(rng: random.Random) -> ResidentFacts:
    return ResidentFacts(
        id=uuid.uuid4(),
        village_code=rng.choice(["63.02.17.2002", "63.02.17.2003", "63.02.06.2009"]),
        district_code="",
        regency_code="63.02",
        status="verified",
        in_target_group=True,
        age=rng.choice([None, 16, 20, 30, 50, 64]),
        sex=rng.choice([None, "M", "F"]),
        education_level=rng.choice([None, "primary", "senior_secondary", "bachelor"]),
        skills=tuple(rng.sample(["tailoring", "welding", "cooking", "driving"], rng.randint(0, 3))),
        welfare_decile=rng.randint(1, 4),
        priority_rank=rng.choice([None, 1, 2, 10]),
        active_kinds=frozenset(rng.sample(KINDS, rng.randint(0, 2))),
        received_capital=rng.random() < 0.3,
    )


def _random_opportunity(rng: random.Random) -> OpportunityFacts:
    return OpportunityFacts(
        id=uuid.uuid4(),
        kind=rng.choice(KINDS),
        provider_org_id="org",
        status="open",
        location_village_code=rng.choice([None, "63.02.17.2002", "63.02.06.2001"]),
        eligible_area_codes=rng.choice([(), ("63.02",), ("63.02.17",), ("63.02.06.2009",)]),
        min_age=rng.choice([None, 18, 25]),
        max_age=rng.choice([None, 35, 60]),
        min_education=rng.choice([None, "junior_secondary", "diploma"]),
        sex=rng.choice([None, None, "M", "F"]),
        skills_required=tuple(rng.sample(["tailoring", "welding", "cooking"], rng.randint(0, 2))),
        skills_taught=tuple(rng.sample(["tailoring", "welding"], rng.randint(0, 2))),
        remaining_slots=rng.randint(1, 3),
    )


def test_the_engine_applies_exactly_the_rules() -> None:
    rng = random.Random(7)
    residents = [_random_resident(rng) for _ in range(60)]
    opportunities = [_random_opportunity(rng) for _ in range(25)]
    arrays = build_arrays(
        residents, opportunities, TODAY, priority_rank_horizon=50, waiting_horizon_days=365
    )
    candidates = generate_candidates(
        arrays.residents,
        arrays.resident_scores,
        arrays.opportunities,
        arrays.village_codes,
        weight_vector(DEFAULT_WEIGHTS),
        top_k=len(opportunities),
    )
    engine_pairs = set(
        zip(candidates.resident.tolist(), candidates.opportunity.tolist(), strict=True)
    )
    rule_pairs = {
        (i, j)
        for i, r in enumerate(residents)
        for j, o in enumerate(opportunities)
        if not check(r, o, TODAY)
    }
    assert engine_pairs == rule_pairs
    assert candidates.eligible_pairs == len(rule_pairs)
    assert 0 < len(rule_pairs) < len(residents) * len(opportunities)
    # Contributions never exceed their weight, and a score is their sum.
    weights = weight_vector(DEFAULT_WEIGHTS)
    assert np.all(candidates.contributions <= weights[None, :] + 1e-6)
    assert candidates.contributions.shape[1] == len(FEATURES)


@pytest.mark.parametrize("one_per_kind", [False, True])
def test_candidates_do_not_depend_on_how_villages_are_blocked(one_per_kind: bool) -> None:
    # Villages of a district share one block of features; a village alone, or cut into runs
    # of a few rows, chooses the same top K with the same contributions, in the same order;
    # and a pair's contributions computed alone are the block's.
    rng = random.Random(11)
    residents = [_random_resident(rng) for _ in range(120)]
    opportunities = [_random_opportunity(rng) for _ in range(30)]
    arrays = build_arrays(
        residents, opportunities, TODAY, priority_rank_horizon=50, waiting_horizon_days=365
    )
    weights = weight_vector(DEFAULT_WEIGHTS)

    def top(block_cells: int) -> Candidates:
        return generate_candidates(
            arrays.residents,
            arrays.resident_scores,
            arrays.opportunities,
            arrays.village_codes,
            weights,
            top_k=3,
            one_per_kind=one_per_kind,
            block_cells=block_cells,
        )

    grouped, alone = top(2_000_000), top(1)
    for field in ("resident", "opportunity", "gain", "contributions"):
        assert np.array_equal(getattr(grouped, field), getattr(alone, field))
    assert grouped.eligible_pairs == alone.eligible_pairs
    assert len(grouped) > 0
    flat = pair_contributions(
        arrays.residents,
        arrays.resident_scores,
        arrays.opportunities,
        grouped.resident,
        grouped.opportunity,
        weights,
    )
    assert np.array_equal(flat, grouped.contributions)
