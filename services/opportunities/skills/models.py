"""A skill of the vocabulary as ``GET /v1/skills`` shows it."""

from __future__ import annotations

from pydantic import BaseModel


class SkillPublic(BaseModel):
    slug: str
    label_id: str
    label_en: str
    group: str
