"""The scoring policy of a run (settings, overridable per run) and scored pairs for lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np

from services.matching.allocation.arrays import build_arrays
from services.matching.allocation.engine import generate_candidates, score_block
from services.matching.eligibility.rules import OpportunityFacts, ResidentFacts
from services.matching.scoring.features import FEATURES, weight_vector
from services.matching.settings import MatchingSettings


@dataclass(frozen=True)
class Policy:
    weights: dict[str, float]
    top_k: int
    max_proposals_per_resident: int
    village_fair_share: bool
    priority_rank_horizon: int
    waiting_horizon_days: int
    eligible_statuses: tuple[str, ...]
    # Later additions keep defaults, so runs queued before them still execute.
    priority_weighting: float = 1.0
    refill_passes: int = 2

    @classmethod
    def from_settings(
        cls, settings: MatchingSettings, overrides: dict[str, Any] | None = None
    ) -> Policy:
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        weights = {name: float(settings.weights.get(name, 0.0)) for name in FEATURES}
        weights.update(overrides.get("weights") or {})
        return cls(
            weights=weights,
            top_k=int(overrides.get("top_k", settings.top_k)),
            max_proposals_per_resident=int(
                overrides.get("max_proposals_per_resident", settings.max_proposals_per_resident)
            ),
            village_fair_share=bool(
                overrides.get("village_fair_share", settings.village_fair_share)
            ),
            priority_weighting=float(
                overrides.get("priority_weighting", settings.priority_weighting)
            ),
            refill_passes=int(overrides.get("refill_passes", settings.refill_passes)),
            priority_rank_horizon=settings.priority_rank_horizon,
            waiting_horizon_days=settings.waiting_horizon_days,
            eligible_statuses=tuple(settings.eligible_resident_statuses),
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["eligible_statuses"] = list(self.eligible_statuses)
        return data


@dataclass(frozen=True)
class ScoredPair:
    resident: ResidentFacts
    opportunity: OpportunityFacts
    score: float
    features: dict[str, float]


def contributions_dict(row: np.ndarray) -> dict[str, float]:
    return {name: round(float(value), 2) for name, value in zip(FEATURES, row, strict=True)}


def score_pairs(
    residents: Sequence[ResidentFacts],
    opportunities: Sequence[OpportunityFacts],
    run_date: date,
    policy: Policy,
) -> list[ScoredPair]:
    """Every pair that passes the pair rules, best first, through the engine's own code path.
    Callers pass residents and opportunities that already pass their own rules."""
    if not residents or not opportunities:
        return []
    arrays = build_arrays(
        residents,
        opportunities,
        run_date,
        priority_rank_horizon=policy.priority_rank_horizon,
        waiting_horizon_days=policy.waiting_horizon_days,
        priority_weighting=policy.priority_weighting,
    )
    candidates = generate_candidates(
        arrays.residents,
        arrays.resident_scores,
        arrays.opportunities,
        arrays.village_codes,
        weight_vector(policy.weights),
        top_k=len(opportunities),
    )
    pairs = [
        ScoredPair(
            resident=residents[int(i)],
            opportunity=opportunities[int(j)],
            score=round(float(contrib.sum()), 2),
            features=contributions_dict(contrib),
        )
        for i, j, contrib in zip(
            candidates.resident,
            candidates.opportunity,
            candidates.contributions,
            strict=True,
        )
    ]
    pairs.sort(key=lambda p: (-p.score, str(p.resident.id), str(p.opportunity.id)))
    return pairs


def pair_features(
    resident: ResidentFacts, opportunity: OpportunityFacts, run_date: date, policy: Policy
) -> tuple[float, dict[str, float]]:
    """Score and contributions of one pair, whatever the rules say (for "why not")."""
    arrays = build_arrays(
        [resident],
        [opportunity],
        run_date,
        priority_rank_horizon=policy.priority_rank_horizon,
        waiting_horizon_days=policy.waiting_horizon_days,
        priority_weighting=policy.priority_weighting,
    )
    contrib = score_block(
        arrays.residents,
        arrays.resident_scores,
        arrays.opportunities,
        np.array([0], dtype=np.int64),
        np.array([0], dtype=np.int32),
        weight_vector(policy.weights),
    )[0, 0]
    return round(float(contrib.sum()), 2), contributions_dict(contrib)
