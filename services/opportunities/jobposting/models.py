"""What ``POST /v1/opportunities/jobposting`` answers: the opportunity and what the mapping
could not carry over."""

from __future__ import annotations

from pydantic import BaseModel

from services.opportunities.catalogue.models import OpportunityPublic


class JobPostingResult(BaseModel):
    opportunity: OpportunityPublic
    created: bool
    changed: bool
    warnings: list[str]
