"""The allocation is optimal (checked against scipy's exact MILP solver), respects slots,
proposal limits and village fair shares, breaks no hard rule, and counts justified envy."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import date

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from services.matching.allocation.engine import (
    Candidates,
    allocate,
    justified_envy,
    village_quotas,
)
from services.matching.eligibility.rules import KINDS, OpportunityFacts, ResidentFacts, check
from services.matching.runs.service import compute_round
from services.matching.scoring.service import Policy
from services.matching.settings import MatchingSettings

TODAY = date(2026, 9, 1)


def _instance(
    rng: np.random.Generator, n: int, m: int, density: float
) -> tuple[Candidates, np.ndarray, np.ndarray]:
    pairs = [(i, j) for i in range(n) for j in range(m) if rng.random() < density]
    res = np.array([p[0] for p in pairs], dtype=np.int32)
    opp = np.array([p[1] for p in pairs], dtype=np.int32)
    gain = rng.integers(0, 10_000, size=len(pairs)).astype(np.int64)
    candidates = Candidates(res, opp, gain, np.zeros((len(pairs), 6), dtype=np.float32), len(pairs))
    capacity = rng.integers(0, 4, size=m).astype(np.int32)
    village = rng.integers(0, 3, size=n).astype(np.int32)
    return candidates, capacity, village


def _milp_optimum(
    candidates: Candidates,
    n: int,
    capacity: np.ndarray,
    per_resident: int,
    village: np.ndarray,
    quota: np.ndarray | None = None,
) -> int:
    k = len(candidates)
    rows = n + len(capacity) + (len(quota) if quota is not None else 0)
    a = lil_matrix((rows, k))
    upper = np.concatenate(
        [np.full(n, per_resident), capacity, quota if quota is not None else []]
    ).astype(float)
    for idx in range(k):
        a[candidates.resident[idx], idx] = 1
        a[n + candidates.opportunity[idx], idx] = 1
        if quota is not None:
            a[n + len(capacity) + village[candidates.resident[idx]], idx] = 1
    result = milp(
        c=-candidates.gain.astype(float),
        constraints=LinearConstraint(a.tocsr(), -np.inf, upper),
        integrality=np.ones(k),
        bounds=Bounds(0, 1),
    )
    assert result.success
    return round(-result.fun)


@pytest.mark.parametrize("seed", range(12))
def test_total_equals_the_exact_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 14)), int(rng.integers(2, 7))
    candidates, capacity, village = _instance(rng, n, m, density=0.5)
    per_resident = 1 + seed % 2
    quota = rng.integers(1, 4, size=3).astype(np.int64) if seed % 3 == 0 else None
    chosen = allocate(
        n,
        capacity,
        candidates,
        per_resident=per_resident,
        resident_village=village,
        village_quota=quota,
    )
    assert int(candidates.gain[chosen].sum()) == _milp_optimum(
        candidates, n, capacity, per_resident, village, quota
    )
    # Feasible, too: slots, proposal limit, quota.
    assert np.all(np.bincount(candidates.opportunity[chosen], minlength=m) <= capacity)
    assert np.all(np.bincount(candidates.resident[chosen], minlength=n) <= per_resident)
    if quota is not None:
        assert np.all(np.bincount(village[candidates.resident[chosen]], minlength=3) <= quota)


def test_quota_splits_district_slots_by_eligible_residents() -> None:
    # Two villages of district 0 with 3 and 1 eligible residents share 4 located slots 3:1;
    # a village with no candidate gets nothing; a district without located slots is uncapped.
    resident_village = np.array([0, 0, 0, 1, 2, 3], dtype=np.int32)
    village_district = np.array([0, 0, 0, 1], dtype=np.int32)
    res = np.array([0, 1, 2, 3, 5], dtype=np.int32)
    candidates = Candidates(
        res,
        np.zeros(5, dtype=np.int32),
        np.ones(5, dtype=np.int64),
        np.zeros((5, 6), np.float32),
        5,
    )
    quota = village_quotas(
        resident_village,
        village_district,
        candidates,
        np.array([0], dtype=np.int32),
        np.array([4], dtype=np.int32),
    )
    assert quota[:3].tolist() == [3, 1, 0]
    assert quota[3] > 1_000_000


def test_justified_envy_counts_passed_over_better_priority() -> None:
    # One slot; resident 0 (best priority) and 1 both want it; 1 gets it by a higher gain.
    candidates = Candidates(
        np.array([0, 1, 2], dtype=np.int32),
        np.array([0, 0, 0], dtype=np.int32),
        np.array([50, 90, 10], dtype=np.int64),
        np.zeros((3, 6), np.float32),
        3,
    )
    chosen = np.array([False, True, False])
    priority = np.array([1, 5, 9], dtype=np.int64)
    assert justified_envy(candidates, chosen, priority) == 1  # 0 envies 1; 2 has worse priority
    assert justified_envy(candidates, np.array([True, False, False]), priority) == 0


def _facts(
    rng: random.Random, n: int, m: int
) -> tuple[list[ResidentFacts], list[OpportunityFacts]]:
    villages = ["63.02.17.2002", "63.02.17.2003", "63.02.06.2009", "63.02.06.2010"]
    residents = [
        ResidentFacts(
            id=uuid.uuid4(),
            village_code=(v := rng.choice(villages)),
            district_code=v[:8],
            regency_code="63.02",
            status="verified",
            in_target_group=True,
            age=rng.randint(15, 64),
            sex=rng.choice(["M", "F"]),
            education_level=rng.choice(
                ["primary", "junior_secondary", "senior_secondary", "diploma"]
            ),
            skills=tuple(
                rng.sample(
                    ["tailoring", "welding", "cooking", "driving", "farming"], rng.randint(0, 3)
                )
            ),
            welfare_decile=rng.randint(1, 4),
            priority_rank=rng.randint(1, 30),
            active_kinds=frozenset(rng.sample(KINDS, rng.randint(0, 1))),
            received_capital=rng.random() < 0.2,
        )
        for _ in range(n)
    ]
    opportunities = [
        OpportunityFacts(
            id=uuid.uuid4(),
            kind=rng.choice(KINDS),
            provider_org_id=f"org-{j % 3}",
            status="open",
            location_village_code=rng.choice([*villages, None]),
            eligible_area_codes=rng.choice(
                [(), ("63.02",), ("63.02.17",), ("63.02.06",), (rng.choice(villages),)]
            ),
            min_age=rng.choice([None, 18, 21]),
            max_age=rng.choice([None, 35, 55]),
            min_education=rng.choice([None, "junior_secondary", "senior_secondary"]),
            sex=rng.choice([None, None, "M", "F"]),
            skills_required=tuple(
                rng.sample(["tailoring", "welding", "cooking"], rng.randint(0, 2))
            ),
            skills_taught=tuple(rng.sample(["tailoring", "welding", "farming"], rng.randint(0, 2))),
            remaining_slots=rng.randint(1, 4),
        )
        for j in range(m)
    ]
    return residents, opportunities


@pytest.mark.parametrize(("fair", "per_resident"), [(False, 1), (True, 1), (False, 2)])
def test_no_proposal_breaks_a_hard_rule(fair: bool, per_resident: int) -> None:
    rng = random.Random(11)
    residents, opportunities = _facts(rng, 300, 40)
    policy = Policy.from_settings(
        MatchingSettings(database_url="sqlite://", jwks_url=""),
        {"village_fair_share": fair, "max_proposals_per_resident": per_resident, "top_k": 5},
    )
    result = compute_round(residents, opportunities, TODAY, policy)
    assert result.proposals
    for pair in result.proposals:
        assert check(pair.resident, pair.opportunity, TODAY) == []
    by_opportunity = Counter(p.opportunity.id for p in result.proposals)
    slots = {o.id: o.remaining_slots for o in opportunities if o.remaining_slots is not None}
    assert all(count <= slots[opp] for opp, count in by_opportunity.items())
    by_resident = Counter(p.resident.id for p in result.proposals)
    assert max(by_resident.values()) <= per_resident
    kinds = Counter((p.resident.id, p.opportunity.kind) for p in result.proposals)
    assert max(kinds.values()) == 1  # never two of a kind for one resident
    if fair:
        quota = result.statistics["village_quota"]
        for village, filled in result.statistics["slots_filled_by_village"].items():
            assert filled <= quota.get(village, filled)
    assert result.statistics["proposals"] == len(result.proposals)
