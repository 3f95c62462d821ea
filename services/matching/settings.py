"""Settings of the matching service, from ``MATCHING_*`` environment variables."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.kit.settings import ConsumerSettings

AllocationPolicy = Literal["priority", "max_score"]

# The default policy: weights of the score's features (points; a perfect pair scores 100).
DEFAULT_WEIGHTS: dict[str, float] = {
    "skills_match": 30.0,
    "distance": 15.0,
    "village_priority": 25.0,
    "welfare_decile": 20.0,
    "waiting_time": 5.0,
    "training_gap": 5.0,
}


class MatchingSettings(ConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore")

    service_name: str = "matching"
    port: int = 8003

    # Policy defaults; a run may override each of them.
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    top_k: int = Field(default=10, ge=1, le=200)
    max_proposals_per_resident: int = Field(default=1, ge=1, le=5)
    village_fair_share: bool = False
    # How much better priority (decile and village rank) weighs a resident's score in the
    # allocation's objective: 1 + weighting x priority, priority in [0, 1].
    priority_weighting: float = Field(default=1.0, ge=0, le=10)
    # Extra candidate passes for residents still free among opportunities with slots left.
    refill_passes: int = Field(default=2, ge=0, le=5)
    # The allocation policy of a run that names none: "priority" keeps the villages' order
    # (deferred acceptance, zero justified envy); "max_score" maximises the total score.
    allocation_policy: AllocationPolicy = "priority"
    # Residents the engine may propose: verified by their village or agency.
    eligible_resident_statuses: list[str] = Field(default_factory=lambda: ["verified"])
    # Village priority rank at which the feature reaches zero; waiting time at which it is full.
    priority_rank_horizon: int = Field(default=50, ge=1)
    waiting_horizon_days: int = Field(default=365, ge=1)
    # How long a provider may read the contact data of a resident who accepted its placement.
    disclosure_valid_days: int = Field(default=365, ge=1)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    disclosure_retry_seconds: float = Field(default=5.0, gt=0)
    # How often proposed and offered placements of closed or lapsed opportunities expire.
    expiry_sweep_seconds: float = Field(default=60.0, gt=0)
    # Off in tests that feed the read model by hand.
    consume_feeds: bool = True


@cache
def get_settings() -> MatchingSettings:
    return MatchingSettings()
