"""The skills vocabulary that registry and catalogue both validate against
(``shared/programme/reference/skills.csv``: slug, Indonesian label, English label, group)."""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SKILLS_FILE = Path(__file__).parent / "reference" / "skills.csv"


@dataclass(frozen=True, slots=True)
class Skill:
    slug: str
    label_id: str
    label_en: str
    group: str


@cache
def skills() -> dict[str, Skill]:
    with SKILLS_FILE.open(encoding="utf-8", newline="") as handle:
        return {
            row["slug"]: Skill(row["slug"], row["label_id"], row["label_en"], row["group"])
            for row in csv.DictReader(handle)
        }


def suggestions(slug: str, limit: int = 3) -> list[str]:
    """The closest known slugs, for an error message that helps fix a typo."""
    return difflib.get_close_matches(slug, list(skills()), n=limit, cutoff=0.5)


def unknown_skills(slugs: list[str]) -> dict[str, list[str]]:
    """Each unknown slug with its closest suggestions; empty when all are known."""
    known = skills()
    return {slug: suggestions(slug) for slug in slugs if slug not in known}


def validate_skills(slugs: list[str]) -> list[str]:
    """For pydantic validators: deduplicated in order, or ValueError naming the unknown slugs."""
    unknown = unknown_skills(slugs)
    if unknown:
        parts = [
            f"{slug!r} (did you mean {', '.join(repr(s) for s in hints)}?)" if hints else repr(slug)
            for slug, hints in unknown.items()
        ]
        raise ValueError("unknown skill " + "; ".join(parts) + "; see GET /v1/skills")
    return list(dict.fromkeys(slugs))
