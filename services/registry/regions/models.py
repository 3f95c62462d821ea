"""A region of the Kemendagri reference list as the API shows it."""

from __future__ import annotations

from pydantic import BaseModel


class RegionPublic(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None
