"""The score of a resident-opportunity pair: a sum of named, weighted features, each in [0, 1].

| feature | value |
|---|---|
| skills_match | share of the opportunity's required skills the resident has (1 when none) |
| distance | 1 same village (or no location), 0.6 same district, 0.3 same regency, else 0 |
| village_priority | 1 for rank 1, falling linearly to 0 at the rank horizon; 0 when unranked |
| welfare_decile | (11 - decile) / 10: decile 1, the poorest, scores 1 |
| waiting_time | days since verification without assistance, over the waiting horizon, capped at 1 |
| training_gap | training that teaches a skill the resident lacks: 1, else 0 |

Computed in blocks of numpy arrays so that one code path scores one pair (explain), one
resident's opportunities (recommendations) and a whole round.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

FEATURES: tuple[str, ...] = (
    "skills_match",
    "distance",
    "village_priority",
    "welfare_decile",
    "waiting_time",
    "training_gap",
)
DISTANCE_SAME_VILLAGE = 1.0
DISTANCE_SAME_DISTRICT = 0.6
DISTANCE_SAME_REGENCY = 0.3


def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights by feature name; unknown names and negative or non-finite weights are errors."""
    unknown = sorted(set(weights) - set(FEATURES))
    if unknown:
        raise ValueError(f"unknown feature {', '.join(unknown)}; known: {', '.join(FEATURES)}")
    for name, value in weights.items():
        if not math.isfinite(value) or value < 0 or value > 1000:
            raise ValueError(f"weight of {name} must be between 0 and 1000")
    return dict(weights)


def weight_vector(weights: Mapping[str, float]) -> NDArray[np.float32]:
    return np.array([float(weights.get(name, 0.0)) for name in FEATURES], dtype=np.float32)


def resident_priority_feature(rank: NDArray[np.int32], horizon: int) -> NDArray[np.float32]:
    value = 1.0 - (rank.astype(np.float32) - 1.0) / float(horizon)
    return np.where(rank > 0, np.clip(value, 0.0, 1.0), 0.0).astype(np.float32)


def resident_decile_feature(decile: NDArray[np.int8]) -> NDArray[np.float32]:
    value = (11.0 - decile.astype(np.float32)) / 10.0
    return np.where((decile >= 1) & (decile <= 10), value, 0.0).astype(np.float32)


def resident_waiting_feature(days: NDArray[np.float32], horizon: int) -> NDArray[np.float32]:
    return np.clip(days / float(horizon), 0.0, 1.0).astype(np.float32)
