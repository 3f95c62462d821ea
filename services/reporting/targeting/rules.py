"""Targeting accuracy of one village's priority list, pure (no database, no HTTP).

- **Inclusion error**: a prioritised (ranked) resident outside the target group.
- **Exclusion error**: a target-group resident left unranked while a less poor resident of the
  same village (a higher decile) is ranked.
- The target group's shares that are ranked, proposed (any placement proposed) and placed (a
  placement started).
"""

from __future__ import annotations

from dataclasses import dataclass

MEASURES = (
    "target_group",
    "ranked",
    "inclusion_errors",
    "exclusion_errors",
    "target_ranked",
    "target_proposed",
    "target_placed",
)


@dataclass(frozen=True, slots=True)
class Person:
    in_target_group: bool
    welfare_decile: int | None
    ranked: bool
    proposed: bool
    placed: bool


def village_counts(people: list[Person]) -> dict[str, int]:
    ranked_deciles = [p.welfare_decile for p in people if p.ranked and p.welfare_decile]
    least_poor_ranked = max(ranked_deciles, default=0)
    target = [p for p in people if p.in_target_group]
    return {
        "target_group": len(target),
        "ranked": sum(p.ranked for p in people),
        "inclusion_errors": sum(p.ranked and not p.in_target_group for p in people),
        "exclusion_errors": sum(
            not p.ranked and (p.welfare_decile or 0) < least_poor_ranked for p in target
        ),
        "target_ranked": sum(p.ranked for p in target),
        "target_proposed": sum(p.proposed for p in target),
        "target_placed": sum(p.placed for p in target),
    }


def share(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(part / whole, 4)
