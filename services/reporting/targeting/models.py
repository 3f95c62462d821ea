"""The targeting report's rows (``GET /v1/reports/targeting``)."""

from __future__ import annotations

from pydantic import BaseModel


class TargetingRow(BaseModel):
    district_code: str
    village_code: str
    # Counts are None where small-cell suppression hides them (regional agencies).
    target_group: int | None
    ranked: int | None
    inclusion_errors: int | None
    exclusion_errors: int | None
    share_target_ranked: float | None
    share_target_proposed: float | None
    share_target_placed: float | None
