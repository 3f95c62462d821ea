"""The skills vocabulary, searched and paged by slug (it lives in shared.programme.skills,
not in a table)."""

from __future__ import annotations

from services.opportunities.skills.models import SkillPublic
from shared.kit.pagination import PageParams, decode_cursor, encode_cursor
from shared.programme.skills import skills


def browse(
    group: str | None, q: str | None, page: PageParams
) -> tuple[list[SkillPublic], str | None]:
    """The skills of ``group`` whose slug or label contains ``q``, a page of them by slug."""
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
    return (
        [
            SkillPublic(slug=s.slug, label_id=s.label_id, label_en=s.label_en, group=s.group)
            for s in items
        ],
        encode_cursor([items[-1].slug]) if more else None,
    )
