"""The placement's life as the change feed states it (docs/contracts.md): matching writes these
moments into each placement change, reporting reads them back into its facts."""

from __future__ import annotations

# The moments of a placement's life, each a timestamp column and a payload field of that name.
PLACEMENT_TIMES = (
    "proposed_at",
    "offered_at",
    "accepted_at",
    "started_at",
    "completed_at",
    "ended_at",
)
