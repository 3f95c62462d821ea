"""From plain facts (``eligibility.rules``) to the engine's arrays, and back to region codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from services.matching.allocation.engine import OpportunityArrays, ResidentArrays, ResidentScores
from services.matching.eligibility.rules import (
    CAPITAL_KIND,
    KINDS,
    TRAINING_KIND,
    OpportunityFacts,
    ResidentFacts,
)
from services.matching.scoring.features import (
    resident_decile_feature,
    resident_priority_feature,
    resident_waiting_feature,
)
from shared.programme.education import education_rank
from shared.programme.regions import district_of, regency_of

SEX_CODE = {"M": 1, "F": 2}
KIND_INDEX = {kind: i for i, kind in enumerate(KINDS)}


class Codes:
    """Region codes as dense indices."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.codes: list[str] = []

    def __call__(self, code: str | None) -> int:
        if not code:
            return -1
        found = self.index.get(code)
        if found is None:
            found = self.index[code] = len(self.codes)
            self.codes.append(code)
        return found


@dataclass
class RoundArrays:
    residents: ResidentArrays
    resident_scores: ResidentScores
    opportunities: OpportunityArrays
    village_codes: list[str]
    village_district: np.ndarray


def pack_skills(matrix: np.ndarray) -> np.ndarray:
    """Boolean (rows, S) to (rows, ceil(S / 64)) uint64 words, little-endian bit order."""
    rows, width = matrix.shape
    words = max(1, -(-width // 64))
    padded = np.zeros((rows, words * 64), dtype=bool)
    padded[:, :width] = matrix
    packed = np.packbits(padded.reshape(rows, words, 64), axis=2, bitorder="little")
    return np.ascontiguousarray(packed).view(np.uint64).reshape(rows, words)


def _waiting_days(since: datetime | None, run_date: date) -> float:
    if since is None:
        return 0.0
    return max(0.0, float((run_date - since.date()).days))


def build_arrays(
    residents: Sequence[ResidentFacts],
    opportunities: Sequence[OpportunityFacts],
    run_date: date,
    *,
    priority_rank_horizon: int,
    waiting_horizon_days: int,
    priority_weighting: float = 1.0,
) -> RoundArrays:
    villages, districts, regencies = Codes(), Codes(), Codes()
    skills: dict[str, int] = {}
    for person in residents:
        villages(person.village_code)
        for slug in person.skills:
            skills.setdefault(slug, len(skills))
    for item in opportunities:
        for slug in (*item.skills_required, *item.skills_taught):
            skills.setdefault(slug, len(skills))
    n, m, s = len(residents), len(opportunities), max(1, len(skills))

    r_skills = np.zeros((n, s), dtype=bool)
    for i, person in enumerate(residents):
        for slug in person.skills:
            r_skills[i, skills[slug]] = True
    r_packed = pack_skills(r_skills)
    kind_bits = [
        sum(1 << KIND_INDEX[k] for k in person.active_kinds if k in KIND_INDEX)
        for person in residents
    ]
    res = ResidentArrays(
        village=np.array([villages(p.village_code) for p in residents], dtype=np.int32),
        district=np.array(
            [districts(p.district_code or district_of(p.village_code)) for p in residents],
            dtype=np.int32,
        ),
        regency=np.array(
            [regencies(p.regency_code or regency_of(p.village_code)) for p in residents],
            dtype=np.int32,
        ),
        age=np.array([-1 if p.age is None else p.age for p in residents], dtype=np.int16),
        sex=np.array([SEX_CODE.get(p.sex or "", 0) for p in residents], dtype=np.int8),
        education=np.array([education_rank(p.education_level) for p in residents], dtype=np.int8),
        skills=r_packed,
        decile=np.array([p.welfare_decile or 0 for p in residents], dtype=np.int8),
        priority_rank=np.array([p.priority_rank or 0 for p in residents], dtype=np.int32),
        waiting_days=np.array(
            [_waiting_days(p.waiting_since, run_date) for p in residents], dtype=np.float32
        ),
        active_kinds=np.array(kind_bits, dtype=np.int32),
        received_capital=np.array([p.received_capital for p in residents], dtype=bool),
    )
    village_priority = resident_priority_feature(res.priority_rank, priority_rank_horizon)
    welfare_decile = resident_decile_feature(res.decile)
    priority = (village_priority + welfare_decile) / 2.0
    scores = ResidentScores(
        village_priority=village_priority,
        welfare_decile=welfare_decile,
        waiting_time=resident_waiting_feature(res.waiting_days, waiting_horizon_days),
        allocation_weight=(1.0 + priority_weighting * priority).astype(np.float32),
    )
    required = np.zeros((m, s), dtype=bool)
    taught = np.zeros((m, s), dtype=bool)
    for j, item in enumerate(opportunities):
        for slug in item.skills_required:
            required[j, skills[slug]] = True
        for slug in item.skills_taught:
            taught[j, skills[slug]] = True
    # Opportunity locations index into the same region lists as residents' villages, but a
    # location where no resident lives must not become a village of the round.
    location_village = [
        villages.index.get(o.location_village_code or "", -1) for o in opportunities
    ]
    opp = OpportunityArrays(
        kind=np.array([KIND_INDEX.get(o.kind, -1) for o in opportunities], dtype=np.int8),
        is_capital=np.array([o.kind == CAPITAL_KIND for o in opportunities], dtype=bool),
        is_training=np.array([o.kind == TRAINING_KIND for o in opportunities], dtype=bool),
        min_age=np.array(
            [-1 if o.min_age is None else o.min_age for o in opportunities], dtype=np.int16
        ),
        max_age=np.array(
            [-1 if o.max_age is None else o.max_age for o in opportunities], dtype=np.int16
        ),
        min_education=np.array(
            [education_rank(o.min_education) if o.min_education else 0 for o in opportunities],
            dtype=np.int8,
        ),
        sex=np.array([SEX_CODE.get(o.sex or "", 0) for o in opportunities], dtype=np.int8),
        village=np.array(
            [
                v if v >= 0 else (-1 if not o.location_village_code else -2)
                for v, o in zip(location_village, opportunities, strict=True)
            ],
            dtype=np.int32,
        ),
        district=np.array(
            [districts(district_of(o.location_village_code or "")) for o in opportunities],
            dtype=np.int32,
        ),
        regency=np.array(
            [regencies(regency_of(o.location_village_code or "")) for o in opportunities],
            dtype=np.int32,
        ),
        area_codes=[o.eligible_area_codes for o in opportunities],
        required=pack_skills(required),
        taught=pack_skills(taught),
        capacity=np.array([max(0, o.remaining_slots or 0) for o in opportunities], dtype=np.int32),
    )
    village_district = np.array(
        [districts(district_of(code)) for code in villages.codes], dtype=np.int32
    )
    return RoundArrays(res, scores, opp, villages.codes, village_district)
