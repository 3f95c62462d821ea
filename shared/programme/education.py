"""Completed schooling, as every service writes it: one ladder, lowest first.

The registry records a resident's ``education_level`` in these words, opportunities ask for a
``min_education`` in them, and matching compares the two by their place on the ladder.
"""

from __future__ import annotations

from typing import Literal, get_args

EducationLevel = Literal[
    "none",
    "primary",
    "junior_secondary",
    "senior_secondary",
    "diploma",
    "bachelor",
    "postgraduate",
]
EDUCATION_LEVELS: tuple[str, ...] = get_args(EducationLevel)
_RANK = {level: rank for rank, level in enumerate(EDUCATION_LEVELS)}
# Vocational senior secondary school (SMK) ranks with general senior secondary (SMA): an offer
# asking for senior secondary takes either.
_RANK["vocational_secondary"] = _RANK["senior_secondary"]


def education_rank(level: str | None) -> int:
    """A level's place on the ladder; unknown or missing counts as no schooling."""
    return _RANK.get(level or "none", 0)
