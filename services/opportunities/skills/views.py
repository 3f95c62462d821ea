"""``GET /v1/skills``: the vocabulary every skills field is checked against."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from shared.kit.auth import CurrentPrincipal
from shared.kit.pagination import Page, PageParamsDep, decode_cursor, encode_cursor
from shared.programme.skills import skills

router = APIRouter(prefix="/v1/skills", tags=["skills"])


class SkillPublic(BaseModel):
    slug: str
    label_id: str
    label_en: str
    group: str


@router.get("", response_model=Page[SkillPublic], summary="The skills vocabulary")
def list_skills(
    _principal: CurrentPrincipal,
    page: PageParamsDep,
    group: Annotated[str | None, Query(max_length=40, description="e.g. cement, fisheries")] = None,
    q: Annotated[
        str | None, Query(min_length=2, max_length=60, description="Part of a slug or label")
    ] = None,
) -> Page[SkillPublic]:
    needle = q.casefold() if q else None
    matches = sorted(
        (
            s
            for s in skills().values()
            if (group is None or s.group == group)
            and (
                needle is None
                or any(needle in text.casefold() for text in (s.slug, s.label_id, s.label_en))
            )
        ),
        key=lambda s: s.slug,
    )
    if page.cursor:
        (after,) = decode_cursor(page.cursor, 1)
        matches = [s for s in matches if s.slug > str(after)]
    items = matches[: page.limit]
    more = len(matches) > page.limit
    return Page[SkillPublic](
        items=[
            SkillPublic(slug=s.slug, label_id=s.label_id, label_en=s.label_en, group=s.group)
            for s in items
        ],
        next_cursor=encode_cursor([items[-1].slug]) if more else None,
    )
